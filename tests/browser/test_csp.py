"""The Content Security Policy: every page says where its scripts and styles may come from, and
the pages, the vote and the admin all work under it with nothing blocked."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from voting.models import Vote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright adds this before any page script, so that every violation is written down.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(phone):
    """A phone whose pages record every CSP violation, from the console and from the DOM."""
    phone.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []

    def open_page():
        page = phone.new_page()
        page.on(
            "console",
            lambda message: (
                console.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield open_page, console


def violations(page, console: list[str]) -> list[str]:
    return page.evaluate("window.__violations") + console


def test_every_page_carries_the_policy_with_a_fresh_nonce_for_inline_code(nominee, organizer):
    page = Client().get(nominee.get_absolute_url())
    policy = page["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    admin = Client()
    admin.force_login(organizer)
    first, second = (
        admin.get(reverse("integrity-review", args=[nominee.award_id]))["Content-Security-Policy"]
        for _ in range(2)
    )
    assert "'nonce-" in first and first != second  # the review page's inline style


def test_the_vote_page_votes_and_shares_with_nothing_blocked(live_server, watched, nominee):
    open_page, console = watched
    page = open_page()
    response = page.goto(live_server.url + nominee.get_absolute_url())
    policy = response.headers["content-security-policy"]
    script_src = policy.split("script-src ", 1)[1].split(";", 1)[0].split()
    # Scripts from the static files only: a file under /media/ could never run as one.
    assert "localhost:*/static/" in script_src and "'self'" not in script_src
    page.wait_for_timeout(2500)  # a person reads before clicking; a script's instant click is held
    page.get_by_role("button", name="Vote for Ada Lovelace").click()
    expect(page.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    sheet = page.locator("[data-share-sheet]")
    sheet.get_by_role("button", name="Copy").click()
    expect(sheet.get_by_role("status")).to_have_text("Copied")
    # The browser check ran in its worker, under the policy, and the vote went by JSON.
    assert list(Vote.objects.values_list("verified", "status")) == [(True, "counted")]
    assert violations(page, console) == []


def test_the_public_pages_load_with_nothing_blocked(live_server, watched, nominee):
    open_page, console = watched
    page = open_page()
    for address in (
        "/",
        "/sbia/",
        "/sbia/categories/experts/",
        "/sbia/standings/",
        "/sbia/standings/experts/",
        "/no-such-award/",  # the 404 page
    ):
        page.goto(live_server.url + address)
        expect(page.locator("h1").first).to_be_visible()
        assert violations(page, console) == [], address


def test_the_admin_works_under_the_policy(live_server, watched, nominee, organizer):
    open_page, console = watched
    page = open_page()
    page.goto(live_server.url + reverse("admin:login"))
    sign_in(page, "organizer", "pw-organizer")
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_text("Log out"))
    ).to_be_visible()
    for address in (
        reverse("admin:index"),
        reverse("admin:awards_nominee_changelist"),
        reverse("admin:awards_nominee_change", args=[nominee.pk]),
        reverse("admin:awards_award_add"),
        reverse("integrity-review", args=[nominee.award_id]),
    ):
        response = page.goto(live_server.url + address)
        assert response.status == 200, address
        assert violations(page, console) == [], address
    # The admin's own scripts run: the filter box of the changelist's sidebar, say.
    page.goto(live_server.url + reverse("admin:awards_nominee_changelist"))
    expect(page.locator("#changelist")).to_be_visible()
    assert page.evaluate("typeof django !== 'undefined' && typeof django.jQuery") == "function"


def test_an_injected_inline_script_is_blocked_and_reported(live_server, watched, nominee):
    open_page, console = watched
    page = open_page()
    page.goto(live_server.url + nominee.get_absolute_url())
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true";
        document.body.append(script);
    }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__injected") is None
    assert any(entry.startswith("script-src") for entry in violations(page, console))


def test_a_script_stored_under_media_never_runs_on_a_page(watched, live_server, nominee, settings):
    """The worst case of an upload: a file that is a script, stored and served. The page's
    policy names the static files alone, so a page that loads it gets nothing run."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("nominees/evil.jpg", ContentFile(b"window.__ran = true;"))
    open_page, console = watched
    page = open_page()
    page.goto(live_server.url + nominee.get_absolute_url())
    page.evaluate(
        "(src) => new Promise((done) => { const s = document.createElement('script');"
        " s.src = src; s.onload = s.onerror = done; document.head.appendChild(s); })",
        f"/media/{name}",
    )
    assert page.evaluate("window.__ran === true") is False
    assert any("script-src" in v for v in violations(page, console))
