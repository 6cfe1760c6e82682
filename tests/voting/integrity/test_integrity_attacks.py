"""Attacks on vote integrity, run the way their authors would: through the pages and the vote
endpoint, with the clock moved forward for a cookie's age, against the award's defaults."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from tests.ballots import READING_TIME, cast_vote, clock_at, form_of, solved_check, voter_at
from voting.integrity.assess import Reason
from voting.integrity.holds import votes_set_status
from voting.models import AuditEntry, Vote
from voting.vocabulary import Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cluster_holds_run_at_once")]
FARM = "192.0.2.150"
JSON = "application/json"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def vote_url(nominee) -> str:
    return nominee.get_absolute_url() + "vote/"


def counted(**filters) -> int:
    return Vote.objects.filter(status="counted", **filters).count()


# A returning voter is what the server recorded, not what the cookie says


def test_cookies_farmed_a_day_ago_are_new_voters_and_their_quick_unchecked_votes_are_held(
    field,
):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        farm = [Client() for _ in range(20)]
        for browser in farm:  # day 1: mint cookies, vote with none
            browser.get(field[0].get_absolute_url(), REMOTE_ADDR=FARM)
        assert all("laurel_voter" in browser.cookies for browser in farm)
        clock.shift(timedelta(hours=25))
        answers = []
        for browser in farm:  # day 2: a token from the page, no check, no wait
            page = browser.get(field[0].get_absolute_url(), REMOTE_ADDR=FARM)
            answers.append(
                browser.post(vote_url(field[0]), form_of(page), REMOTE_ADDR=FARM, HTTP_ACCEPT=JSON)
            )
    assert {answer.status_code for answer in answers} == {202}
    assert counted() == 0
    assert not Vote.objects.filter(new_voter=False).exists()


def test_farmed_cookies_that_solve_the_check_but_post_at_once_are_held_as_a_cluster(field):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        farm = [Client() for _ in range(12)]
        for browser in farm:
            browser.get(field[0].get_absolute_url(), REMOTE_ADDR=FARM)
        clock.shift(timedelta(hours=25))
        for browser in farm:
            page = browser.get(field[0].get_absolute_url(), REMOTE_ADDR=FARM)
            fields = {**form_of(page), "altcha": solved_check(page, REMOTE_ADDR=FARM)}
            with TestCase.captureOnCommitCallbacks(execute=True):
                browser.post(vote_url(field[0]), fields, REMOTE_ADDR=FARM, HTTP_ACCEPT=JSON)
    assert Vote.objects.count() == 12
    assert counted() == 0
    assert set(Vote.objects.values_list("reasons", flat=True)) == {Reason.FAST_CLUSTER}


def test_a_voter_returns_only_once_a_vote_of_theirs_has_counted(field):
    day1 = timezone.now()
    honest, held = voter_at("198.51.100.31"), voter_at("198.51.100.32")
    assert cast_vote(nominee=field[0], voter=honest, now=day1).counted
    unchecked = cast_vote(
        nominee=field[0], voter=held, now=day1, verified=False, read_for=timedelta(0)
    )
    assert unchecked.outcome is Outcome.HELD
    day2 = day1 + timedelta(hours=25)
    cast_vote(nominee=field[0], voter=honest, now=day2)
    cast_vote(nominee=field[0], voter=held, now=day2)
    second = Vote.objects.filter(created_at=day2)
    assert dict(second.values_list("voter_key", "new_voter")) == {
        honest.key: False,
        held.key: True,  # its only vote is held: nothing of it has counted yet
    }


def test_returning_voters_pay_the_check_and_the_address_counts_too(field):
    day1 = timezone.now()
    regulars = [voter_at(FARM, minted_at=day1.timestamp()) for _ in range(40)]
    for i, regular in enumerate(regulars):  # day 1, each for a nominee of its own choice
        assert cast_vote(nominee=field[1 + i % 15], voter=regular, now=day1).counted
    day2 = day1 + timedelta(hours=25)
    unchecked = [
        cast_vote(nominee=field[0], voter=regular, now=day2, verified=False).outcome
        for regular in regulars[:12]
    ]
    # Returning voters without the check from one address: 3 x the new voters' 3, then held.
    assert unchecked == [Outcome.COUNTED] * 9 + [Outcome.HELD] * 3
    checked = [cast_vote(nominee=field[2], voter=regular, now=day2).outcome for regular in regulars]
    assert checked == [Outcome.COUNTED] * 36 + [Outcome.HELD] * 4  # 3 x 12 from one address
    assert Vote.objects.filter(reasons=Reason.RETURNING_ADDRESS).count() == 4


def test_a_script_pacing_itself_under_the_hourly_threshold_gets_four_hours_worth_a_day(field):
    start = timezone.now()
    outcomes = [  # 12 new voters an hour from one address, the hourly threshold, for 5 hours
        cast_vote(
            nominee=field[0], voter=voter_at(FARM), now=start + timedelta(minutes=5 * k)
        ).outcome
        for k in range(60)
    ]
    assert outcomes == [Outcome.COUNTED] * 48 + [Outcome.HELD] * 12


# Fast clicks count; a confirm step counts the click that confirms


def test_an_honest_fan_clicking_within_a_second_is_counted(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    fields = {**form_of(page), "altcha": solved_check(page)}
    with clock_at(timezone.now() + timedelta(milliseconds=700)):
        response = browser.post(vote_url(nominee), fields, HTTP_ACCEPT=JSON)
    assert response.status_code == 200
    assert response.json()["outcome"] == "counted"


def test_a_voter_who_lost_their_cookie_confirms_with_one_quick_click_without_javascript(nominee):
    page = Client().get(nominee.get_absolute_url())
    browser = Client()  # the vote comes from another app's browser: the cookie is not there
    asked = browser.post(vote_url(nominee), form_of(page), follow=True)
    assert 'data-outcome="confirm"' in asked.text
    with clock_at(timezone.now() + timedelta(milliseconds=500)):
        confirmed = browser.post(vote_url(nominee), form_of(asked), follow=True)
    assert 'data-outcome="counted"' in confirmed.text
    assert counted() == 1


def test_an_expired_vote_button_is_confirmed_with_one_quick_click(nominee, settings):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    later = timezone.now() + timedelta(seconds=settings.VOTE_TOKEN_SECONDS + 60)
    with clock_at(later):
        asked = browser.post(vote_url(nominee), form_of(page), follow=True)
        assert "Vote button expired" in asked.text
        fields = {**form_of(asked), "altcha": solved_check(asked)}
    with clock_at(later + timedelta(milliseconds=400)):
        confirmed = browser.post(vote_url(nominee), fields, HTTP_ACCEPT=JSON)
    assert confirmed.json()["outcome"] == "counted"


# A burst holds the cluster that caused it, not the nominee


def test_a_saboteur_cannot_get_a_rivals_honest_fans_held(field, settings):
    settings.MANAGERS = ["integrity@example.org"]
    rival = field[0]
    saboteur = [f"198.51.{n}.9" for n in range(100, 108)]  # 8 addresses in 8 /24s
    start = timezone.now()
    fans, outcomes = [], []
    for i in range(80):  # 80 votes in 400 s: 9 honest fans among 71 of the saboteur's
        fan = i % 9 == 4
        address = f"{20 + i}.{i}.{7 * i % 256}.{1 + i}" if fan else saboteur[i % 8]
        # The saboteur even copies the fans' browser: only where votes come from tells them apart.
        voter = voter_at(address, agent=IPHONE)
        with TestCase.captureOnCommitCallbacks(execute=True):
            result = cast_vote(nominee=rival, voter=voter, now=start + timedelta(seconds=5 * i))
        (fans if fan else outcomes).append((voter.key, result.outcome))
    assert len(fans) == 9
    assert all(outcome is Outcome.COUNTED for _, outcome in fans)
    fan_keys = [key for key, _ in fans]
    assert counted(voter_key__in=fan_keys) == 9  # and no hold after the fact reached them
    assert counted(nominee=rival) - 9 <= 1  # the saboteur's: at most 2% of its 71
    flag = AuditEntry.objects.get(action=AuditEntry.Action.BURST)
    assert flag.detail["nominee"] == rival.pk
    assert len(mail.outbox) == 1
    assert rival.name in mail.outbox[0].subject


def test_a_burst_flag_reaches_the_dashboard_and_the_integrity_page(field, admin_client):
    AuditEntry.objects.create(
        award=field[0].award,
        action=AuditEntry.Action.BURST,
        reason=f"A burst of new voters for {field[0].name}: review it",
        count=12,
        detail={"nominee": field[0].pk},
    )
    page = admin_client.get(reverse("award-dashboard", args=[field[0].award.pk]))
    assert page.status_code == 200
    assert f"A burst of new voters for {field[0].name}" in page.text
    review = admin_client.get(reverse("integrity-review", args=[field[0].award.pk]))
    assert f"A burst of new voters for {field[0].name}" in review.text


# What voters are told


def test_a_vote_held_after_it_was_answered_counted_shows_as_being_checked(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    fields = {**form_of(page), "altcha": solved_check(page)}
    with clock_at(timezone.now() + READING_TIME):
        assert browser.post(vote_url(nominee), fields, HTTP_ACCEPT=JSON).json()["counted"]
    votes_set_status(vote_ids=[Vote.objects.get().pk], status="quarantined", reason="manual")
    again = browser.get(nominee.get_absolute_url())
    assert "is being checked" in again.text
    assert "You've voted" not in again.text


def test_scripts_learn_no_reason_codes(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    answer = browser.post(vote_url(nominee), form_of(page), HTTP_ACCEPT=JSON)  # at once, unchecked
    assert answer.status_code == 202
    assert set(answer.json()) == {"outcome", "counted", "nominee", "next_vote_at", "html"}
    assert Vote.objects.get().reasons == Reason.TOO_FAST
    for code in Reason:
        assert str(code) not in answer.text
    plain = Client()
    page = plain.get(nominee.get_absolute_url(), REMOTE_ADDR="192.0.2.71")
    plain.post(vote_url(nominee), form_of(page), REMOTE_ADDR="192.0.2.71")
    outcome = signing.loads(plain.cookies["laurel_outcome"].value, salt="laurel.outcome")
    assert outcome["o"] == "held" and outcome["r"] == []


# Cookies are minted by pages, and only so many per address and network


def test_the_browser_check_never_mints_a_cookie(nominee):
    answer = Client().get(nominee.get_absolute_url() + "challenge/", {"token": "1.a.2"})
    assert answer.status_code == 400
    assert "laurel_voter" not in answer.cookies


def test_minting_cookies_is_bounded_per_address_and_existing_voters_still_vote(nominee):
    limits = {"address": 3, "/24": 5, "/56": 5, "/48": 10}
    with mock.patch.dict("voting.ballot.voters.MINTS_PER_HOUR", limits):
        first = Client()
        minted = [
            browser.get(nominee.get_absolute_url(), REMOTE_ADDR="192.0.2.10")
            for browser in (first, Client(), Client())
        ]
        assert all("laurel_voter" in page.cookies for page in minted)
        refused = Client().get(nominee.get_absolute_url(), REMOTE_ADDR="192.0.2.10")
        assert "laurel_voter" not in refused.cookies
        assert "Too many new visitors from your network" in refused.text
        assert 'name="token"' not in refused.text
        fields = {**form_of(minted[0]), "altcha": solved_check(minted[0])}
        with clock_at(timezone.now() + READING_TIME):
            vote = first.post(vote_url(nominee), fields, REMOTE_ADDR="192.0.2.10")
        assert vote.status_code == 303  # a browser that has its cookie votes as ever
        same_network = [
            "laurel_voter" in Client().get(nominee.get_absolute_url(), REMOTE_ADDR=address).cookies
            for address in ("192.0.2.11", "192.0.2.12", "192.0.2.13")
        ]
        assert same_network == [True, True, False]  # the /24's 5, with the 3 above
        elsewhere = Client().get(nominee.get_absolute_url(), REMOTE_ADDR="198.51.100.10")
        assert "laurel_voter" in elsewhere.cookies
        cookieless = Client().post(vote_url(nominee), {"token": "x"}, REMOTE_ADDR="192.0.2.10")
        assert cookieless.status_code == 429
    assert counted() == 1
