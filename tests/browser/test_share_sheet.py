"""The share sheet and the suggestions after a vote, on a phone, in real Chromium."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from awards.models import Nominee
from tests.ballots import cast_vote, voter_at
from tests.factories import CategoryFactory, NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = settings.VAR_DIR / "screenshots"  # to look at after a run
REFS = {
    "Share on X": "x",
    "Share on Facebook": "facebook",
    "Share on LinkedIn": "linkedin",
    "Share on WhatsApp": "whatsapp",
    "Share by Email": "email",
    "Share by SMS": "sms",
}


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def shared_link(href: str) -> str:
    """The nominee link inside a channel's share link, wherever that channel puts it."""
    query = {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}
    if "url" in query or "u" in query:
        return query.get("url") or query["u"]
    message = query.get("text") or query["body"]
    return message.split()[-1]


def test_share_sheet_links_carry_their_channel_and_copy_says_copied(live_server, phone, nominee):
    Nominee.objects.filter(pk=nominee.pk).update(twitter_handle="ada")
    phone.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page_url = live_server.url + nominee.get_absolute_url()
    page = phone.new_page()
    page.goto(page_url)

    sheet = page.locator("[data-share-sheet]")
    expect(sheet.get_by_role("heading")).to_have_text("Help Ada Lovelace win: share this page.")
    for name, ref in REFS.items():
        href = sheet.get_by_role("link", name=name).get_attribute("href")
        assert shared_link(href) == f"{page_url}?ref={ref}", name
    x = parse_qs(urlsplit(sheet.get_by_role("link", name="Share on X").get_attribute("href")).query)
    assert x["text"] == [
        "Vote for Ada Lovelace (@ada) in Experts at the Small Business Influencer Awards"
        " — you can vote every 24 hours"
    ]
    assert (
        sheet.get_by_role("link", name="Share by SMS")
        .get_attribute("href")
        .startswith("sms:?&body=Vote%20for%20Ada%20Lovelace")
    )

    copy = sheet.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()  # JavaScript shows it
    copy.click()
    expect(sheet.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{page_url}?ref=copy"
    shot(page, "share-sheet-copied")


def test_the_share_button_appears_only_where_the_browser_can_share(live_server, phone, nominee):
    page = phone.new_page()
    page.add_init_script("delete Navigator.prototype.share; delete Navigator.prototype.canShare;")
    page.goto(live_server.url + nominee.get_absolute_url())
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    expect(page.get_by_role("button", name="Share…")).to_be_hidden()

    shared = phone.new_page()
    shared.add_init_script(
        "Navigator.prototype.share = function (data) { window.__shared = data;"
        " return Promise.resolve(); };"
        "Navigator.prototype.canShare = function () { return true; };"
    )
    shared.goto(live_server.url + nominee.get_absolute_url())
    shared.get_by_role("button", name="Share…").click()
    data = shared.evaluate("window.__shared")
    assert data["url"] == live_server.url + nominee.get_absolute_url() + "?ref=share"
    assert data["text"].startswith("Vote for Ada Lovelace")


def test_after_a_vote_the_next_votes_appear_and_the_count_goes_up_in_place(
    live_server, phone, nominee
):
    others = [
        NomineeFactory(category=nominee.category, name=name, slug=slug)
        for name, slug in [
            ("Grace Hopper", "grace-hopper"),
            ("Hedy Lamarr", "hedy-lamarr"),
            ("Katherine Johnson", "katherine-johnson"),
            ("Mary Jackson", "mary-jackson"),
        ]
    ]
    elsewhere = NomineeFactory(category=CategoryFactory(award=nominee.award), slug="elsewhere")
    for n in range(3):
        cast_vote(nominee=nominee, voter=voter_at(f"198.51.100.{n + 1}"), now=timezone.now())
    standings_recompute(award_id=nominee.award_id)

    page = phone.new_page()
    page.goto(live_server.url + nominee.get_absolute_url())
    standing = page.locator("#nominee-standing")
    expect(standing).to_contain_text("3 votes")
    page.evaluate("window.__laurelStayed = true")
    page.wait_for_timeout(2500)  # a person reads before clicking; a script's instant click is held
    page.get_by_role("button", name="Vote for Ada Lovelace").click()

    expect(page.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    # At once, well before the page reads the standings again (4 s).
    expect(standing).to_contain_text("4 votes", timeout=1500)
    steps = page.locator("[data-next-steps]")
    expect(steps).to_be_visible()
    suggested = steps.locator(".next-nominees a")
    expect(suggested).to_have_count(3)
    allowed = {other.get_absolute_url() for other in others}
    assert {link.get_attribute("href") for link in suggested.all()} <= allowed
    assert elsewhere.get_absolute_url() not in allowed
    standings = steps.get_by_role("link", name="See the Experts standings")
    assert standings.get_attribute("href") == "/sbia/standings/experts/"
    shot(page, "after-a-vote")

    # A few seconds later the rank line is read again from the server: another voter's vote,
    # counted meanwhile, shows up without a reload.
    cast_vote(nominee=nominee, voter=voter_at("198.51.100.9"), now=timezone.now())
    standings_recompute(award_id=nominee.award_id)
    expect(standing).to_contain_text("5 votes", timeout=15000)
    expect(standing).to_contain_text("#1 in Experts")
    assert page.evaluate("window.__laurelStayed") is True  # updated in place, no reload

    standings.click()
    expect(page).to_have_url(live_server.url + "/sbia/standings/experts/")
    expect(page.get_by_text("Ada Lovelace").first).to_be_visible()
    shot(page, "after-a-vote-standings")


def test_without_javascript_the_vote_lands_on_the_page_and_a_reload_votes_nothing(
    live_server, browser, nominee
):
    from voting.models import Vote

    NomineeFactory(category=nominee.category, name="Grace Hopper", slug="grace-hopper")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + nominee.get_absolute_url() + "?ref=sms")
    expect(page.get_by_role("button", name="Share…")).to_be_hidden()
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()
    page.wait_for_timeout(2500)
    page.get_by_role("button", name="Vote for Ada Lovelace").click()
    expect(page.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    assert page.url == live_server.url + nominee.get_absolute_url() + "?ref=sms"
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
    shot(page, "after-a-vote-without-javascript")
    page.reload()
    expect(page.locator("#vote-box")).to_contain_text("You've voted for Ada Lovelace.")
    context.close()
    assert list(Vote.objects.values_list("ref", "status")) == [("sms", "counted")]


def test_the_first_vote_replaces_no_votes_yet_in_place_and_is_never_taken_back(
    live_server, phone, nominee
):
    page = phone.new_page()
    page.goto(live_server.url + nominee.get_absolute_url())
    standing = page.locator("#nominee-standing")
    expect(standing).to_have_text("No votes yet — be the first")
    # Until the standings are recomputed, reading the page again still says "No votes yet".
    before = page.content()
    stale = f"**{nominee.get_absolute_url()}"
    page.route(stale, lambda route: route.fulfill(content_type="text/html", body=before))
    page.wait_for_timeout(2500)  # a person reads before clicking; a script's instant click is held
    page.get_by_role("button", name="Vote for Ada Lovelace").click()
    expect(page.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    expect(standing).to_have_text("1 vote", timeout=1500)  # at once
    page.wait_for_timeout(5500)  # past the first read of the page (4 s), which was stale
    expect(standing).to_have_text("1 vote")
    page.unroute(stale)
    standings_recompute(award_id=nominee.award_id)  # what the worker does
    expect(standing).to_contain_text("#1 in Experts", timeout=15000)  # the second read (12 s)
