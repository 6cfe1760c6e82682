"""A voter on a phone, in real Chromium: one click votes, a second click shows the countdown."""

import re

import pytest
from playwright.sync_api import expect

from voting.models import Vote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_click_vote_see_confirmation_then_click_again_and_see_countdown(
    live_server, phone, nominee
):
    url = live_server.url + nominee.get_absolute_url() + "?ref=facebook"
    first = phone.new_page()
    first.goto(url)
    second = phone.new_page()  # the same voter's other tab, opened before voting
    second.goto(url)

    first.evaluate("window.__laurelStayed = true")
    first.wait_for_timeout(2500)  # a person reads before clicking
    first.get_by_role("button", name="Vote for Ada Lovelace").click()
    expect(first.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    assert first.evaluate("window.__laurelStayed") is True  # updated in place, no reload
    countdown = first.locator(".countdown")
    expect(countdown).to_contain_text("You can vote for Ada Lovelace again")
    # Shown in the voter's own time zone (Paris), not the award's.
    expect(countdown.locator("time")).to_contain_text(re.compile(r"CET|GMT\+1"))
    expect(first.get_by_role("link", name="Share on X")).to_be_visible()

    second.get_by_role("button", name="Vote for Ada Lovelace").click()
    expect(second.locator(".outcome")).to_contain_text("you already voted for Ada Lovelace")
    expect(second.locator("[data-countdown]")).to_have_text(
        re.compile(r"^(23 hours, 59 minutes|1 day)$")
    )

    votes = list(Vote.objects.values_list("ref", "user_agent", "verified", "status"))
    assert len(votes) == 1
    assert votes[0][0] == "facebook"
    assert votes[0][2:] == (True, "counted")  # the browser check ran in the background
    assert "iPhone" in votes[0][1]


def test_the_vote_button_works_without_javascript(live_server, browser, nominee):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + nominee.get_absolute_url())
    page.wait_for_timeout(2500)
    page.get_by_role("button", name="Vote for Ada Lovelace").click()
    expect(page.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    assert page.url == live_server.url + nominee.get_absolute_url()  # redirected after the POST
    context.close()
    assert list(Vote.objects.values_list("verified", "status")) == [(False, "counted")]


def test_a_fan_who_clicks_as_soon_as_the_page_appears_is_counted_with_one_click(
    live_server, phone, nominee
):
    page = phone.new_page()
    page.goto(live_server.url + nominee.get_absolute_url(), wait_until="domcontentloaded")
    button = page.get_by_role("button", name="Vote for Ada Lovelace")
    button.click()  # at once: the page waits for its browser check, then sends
    expect(page.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    votes = list(Vote.objects.values_list("verified", "status", "dwell_ms"))
    assert len(votes) == 1
    assert votes[0][:2] == (True, "counted")
    assert votes[0][2] < 2000  # faster than the award's two seconds on the page, and counted


def test_a_confirm_step_counts_the_click_that_confirms(live_server, phone, nominee):
    opened = phone.new_page()
    opened.goto(live_server.url + nominee.get_absolute_url())
    phone.clear_cookies(name="laurel_voter")  # lost between reading and clicking
    opened.get_by_role("button", name="Vote for Ada Lovelace").click()
    confirm = opened.get_by_role("button", name="Confirm my vote for Ada Lovelace")
    expect(confirm).to_be_visible()
    confirm.click()  # at once
    expect(opened.locator(".outcome")).to_have_text("Your vote for Ada Lovelace counts. Thank you!")
    assert list(Vote.objects.values_list("status", flat=True)) == ["counted"]
