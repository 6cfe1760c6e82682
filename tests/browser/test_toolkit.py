"""The nominee's private toolkit on a phone, in real Chromium: opened from the stats link, its
Copy buttons copy and say so; and the public page offers voters none of the nominee's tools."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from awards.stats_links import stats_path
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.factories import NomineeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = settings.VAR_DIR / "screenshots"  # to look at after a run


@pytest.fixture
def soren(experts):
    return NomineeFactory(category=experts, name="Søren Wójcik", slug="soren-wojcik")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_stats_link_opens_the_toolkit_and_copy_says_copied(live_server, phone, soren):
    phone.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    phone.add_init_script(RECORD_VIOLATIONS)
    page = phone.new_page()
    page.goto(live_server.url + stats_path(soren))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your toolkit, Søren Wójcik")
    expect(
        page.get_by_role("img", name="QR code that opens Søren Wójcik's vote page")
    ).to_be_visible()

    vote_link = page.locator(".copy-field").filter(has=page.locator("#copy-vote-link"))
    vote_link.get_by_role("button", name="Copy link").click()
    expect(vote_link.get_by_role("status")).to_have_text("Copied")
    vote_url = f"{live_server.url}/sbia/soren-wojcik/"
    assert page.evaluate("navigator.clipboard.readText()") == vote_url

    badge = page.locator(".copy-field").filter(has=page.locator("#badge-snippet"))
    badge.get_by_role("button", name="Copy HTML").click()
    expect(badge.get_by_role("status")).to_have_text("Copied")
    pasted = page.evaluate("navigator.clipboard.readText()")
    assert pasted.startswith(f'<a href="{vote_url}?ref=badge"><img src="{live_server.url}/')
    assert 'alt="Vote for Søren Wójcik in Experts' in pasted
    shot(page, "toolkit-copied")
    # Only the field copied says so.
    untouched = page.locator(".copy-field").filter(has=page.locator("#copy-qr-png"))
    expect(untouched.get_by_role("status")).to_have_text("")
    assert page.evaluate("window.__violations") == []


def test_without_the_clipboard_api_copy_selects_the_text(live_server, phone, soren):
    page = phone.new_page()
    # As in a browser without the async clipboard, or a page served over plain HTTP.
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    page.goto(live_server.url + stats_path(soren))
    field = page.locator(".copy-field").filter(has=page.locator("#copy-text-x"))
    field.get_by_role("button", name="Copy text").click()
    expect(field.get_by_role("status")).to_have_text(
        # The legacy copy command may or may not be allowed; either way the text is selected.
        re.compile("^(Copied|Selected: use your device's Copy to copy it)$")
    )
    selected = page.evaluate(
        "(() => { const f = document.activeElement;"
        " return [f.id, f.value.substring(f.selectionStart, f.selectionEnd)]; })()"
    )
    assert selected[0] == "copy-text-x"
    assert selected[1].endswith(f"{live_server.url}/sbia/soren-wojcik/?ref=x")


def test_the_public_page_shows_voters_no_embed_tools(live_server, phone, experts):
    li = NomineeFactory(category=experts, name="李娜 Zhang", slug="li-na-zhang")
    page = phone.new_page()
    page.goto(live_server.url + li.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text("李娜 Zhang")
    expect(page.get_by_role("button", name="Vote for 李娜 Zhang")).to_be_visible()
    expect(page.locator("[data-share-sheet]")).to_be_visible()
    expect(page.locator("#badge-snippet")).to_have_count(0)
    expect(page.locator("[data-copy-target]")).to_have_count(0)
    expect(page.locator("img[src*='badge'], img[src*='qr.']")).to_have_count(0)
    expect(page.get_by_text("QR code")).to_have_count(0)
    expect(page.get_by_text("badge", exact=False)).to_have_count(0)
    shot(page, "public-page-without-embed-tools")
