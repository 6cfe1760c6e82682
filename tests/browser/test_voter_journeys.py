"""A voter's journeys on a phone, in real Chromium, for nominees whose names carry accents or CJK:
the answer and the count in place, a held vote on every later view, a dead end's way out, and
the reminder in the phone's own time zone."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.factories import NomineeFactory
from voting.models import Vote
from voting.standings.services import standings_recompute

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("static_by_finders"),
]
NAMES = ["Søren Wójcik", "李娜 Zhang"]


@pytest.fixture
def named(experts):
    nominees = [NomineeFactory(category=experts, name=name) for name in NAMES]
    standings_recompute(award_id=experts.award_id)
    return nominees


@pytest.mark.parametrize("index", range(len(NAMES)))
def test_a_vote_is_answered_and_the_count_rises_in_place(live_server, phone, named, index):
    nominee = named[index]
    page = phone.new_page()
    page.goto(live_server.url + nominee.get_absolute_url())
    standing = page.locator("#nominee-standing")
    expect(standing).to_have_text("No votes yet — be the first")
    page.get_by_role("button", name=f"Vote for {nominee.name}").click()
    expect(page.locator(".outcome")).to_have_text(
        f"Your vote for {nominee.name} counts. Thank you!"
    )
    expect(standing).to_contain_text("1 vote")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded mode refreshed the standings after answering; the page reads them again.
        expect(standing).to_contain_text("#1 in Experts", timeout=15_000)
    assert Vote.objects.get().status == "counted"


def test_a_held_vote_says_it_is_being_checked_on_every_later_view(live_server, browser, named):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + named[0].get_absolute_url())
    # At once, without the browser check: recorded and held.
    page.get_by_role("button", name="Vote for Søren Wójcik").click()
    expect(page.locator(".outcome")).to_contain_text("is being checked")
    for _ in range(2):
        page.reload()
        expect(page.locator("#vote-box")).to_contain_text(
            "Your vote for Søren Wójcik is being checked."
        )
        expect(page.locator("#vote-box")).not_to_contain_text("You've voted")
        expect(page.locator(".call-to-vote")).to_be_hidden()
    context.close()
    assert Vote.objects.get().status == "quarantined"


def test_a_vote_form_that_lost_its_token_offers_reload_and_vote(live_server, phone, named):
    page = phone.new_page()
    page.goto(live_server.url + named[1].get_absolute_url())
    # What a page kept open for days, or an extension that strips forms, sends.
    page.evaluate(
        "() => { const form = document.querySelector('form[data-vote-form]');"
        " form.querySelector('[name=token]').remove(); form.submit(); }"
    )
    expect(page.get_by_role("heading", name="Please reload and try again")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("security token")
    page.get_by_role("link", name="Reload and vote").click()
    page.get_by_role("button", name="Vote for 李娜 Zhang").click()
    expect(page.locator(".outcome")).to_have_text("Your vote for 李娜 Zhang counts. Thank you!")


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("America/New_York", "New York"), ("America/Boise", "Boise (this device)")],
)
def test_the_reminder_is_set_in_the_phones_own_time_zone(live_server, browser, named, zone, shown):
    context = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id=zone)
    page = context.new_page()
    page.goto(live_server.url + named[0].get_absolute_url())
    page.get_by_text("Remind me to vote every day").click()
    select = page.get_by_label("Your time zone")
    expect(select).to_have_value(zone)
    assert shown in select.locator("option:checked").inner_text()
    page.get_by_label("Time of day").fill("09:00")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the reminder (.ics)").click()
    ics = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"DTSTART;TZID={zone}:" in ics and "T090000" in ics
    context.close()
