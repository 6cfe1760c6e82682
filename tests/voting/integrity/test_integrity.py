"""Counts to trust: honest crowds count, each kind of cheater is held (never dropped), and the
browser check costs more where votes come fast.

Thresholds are the award's defaults unless a test says otherwise; held votes are recorded,
quarantined with their reasons, and leave the standings.
"""

import html
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from awards.models import Award
from tests.ballots import (
    cast_vote,
    clock_at,
    form_of,
    solved_form,
    vote_like_a_browser,
    voter_at,
)
from voting.integrity.assess import pow_difficulty
from voting.models import AuditEntry, Vote
from voting.vocabulary import Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cluster_holds_run_at_once")]
NAT = "100.64.7.9"  # a carrier-grade NAT address shared by many phones


def counted(**filters) -> int:
    return Vote.objects.filter(status="counted", **filters).count()


def rules(nominee, **fields) -> None:
    Award.objects.filter(pk=nominee.award_id).update(**fields)
    nominee.award.refresh_from_db()


def script_votes(nominee, addresses, *, verified=True, every=timedelta(seconds=5)) -> list[Outcome]:
    """Votes from new voters at `addresses`, one every few seconds; cluster holds run after
    each commit, as they do after a request."""
    start = timezone.now()
    outcomes = []
    for i, address in enumerate(addresses):
        with TestCase.captureOnCommitCallbacks(execute=True):
            result = cast_vote(
                nominee=nominee, voter=voter_at(address), now=start + every * i, verified=verified
            )
        outcomes.append(result.outcome)
    return outcomes


# Who votes, honestly


def test_an_office_behind_one_address_votes_for_a_colleague_and_many_nominees(field):
    office = "198.51.100.7"
    colleagues = script_votes(field[0], [office] * 10)
    others = [
        cast_vote(nominee=nominee, voter=voter_at(office), now=timezone.now()).outcome
        for nominee in field[1:]
        for _ in range(5)
    ]
    assert set(colleagues) == set(others) == {Outcome.COUNTED}
    assert counted() == 10 + 75


def test_returning_voters_behind_one_nat_count_at_gentler_thresholds(field):
    """Thirty regulars of a carrier's NAT, each counted yesterday, vote for one nominee today:
    more than the new-voter threshold (12), within the returning one (3 x 12)."""
    yesterday = timezone.now()
    regulars = [voter_at(NAT, minted_at=yesterday.timestamp() - 60) for _ in range(30)]
    for i, regular in enumerate(regulars):
        first = cast_vote(nominee=field[1 + i % 15], voter=regular, now=yesterday)
        assert first.outcome is Outcome.COUNTED
    today = yesterday + timedelta(hours=25)
    outcomes = [
        cast_vote(nominee=field[0], voter=regular, now=today).outcome for regular in regulars
    ]
    assert set(outcomes) == {Outcome.COUNTED}
    assert Vote.objects.filter(nominee=field[0], new_voter=False).count() == 30


def test_voters_without_javascript_count(field):
    outcomes = [
        cast_vote(
            nominee=nominee, voter=voter_at(f"203.0.113.{i}"), now=timezone.now(), verified=False
        ).outcome
        for i, nominee in enumerate(field)
    ]
    assert set(outcomes) == {Outcome.COUNTED}


def test_ipv6_voters_in_one_carrier_48_count(field):
    outcomes = [
        cast_vote(
            nominee=field[i % 16], voter=voter_at(f"2001:db8:aa:{i:x}::1"), now=timezone.now()
        ).outcome
        for i in range(60)
    ]
    assert set(outcomes) == {Outcome.COUNTED}


# Who cheats


def test_a_cookie_clearing_script_without_the_browser_check_is_held_from_its_first_vote(field):
    outcomes = script_votes(field[0], ["192.0.2.10"] * 40, verified=False)
    assert outcomes[:3] == [Outcome.COUNTED] * 3
    assert set(outcomes[3:]) == {Outcome.HELD}
    # Crossing the threshold holds the cluster's earlier votes too.
    assert counted(nominee=field[0]) == 0
    assert Vote.objects.filter(status="quarantined").count() == 40
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.count) == ("auto_quarantine", None, 3)
    assert entry.detail["dimension"] == "ip" and entry.detail["value"] == "192.0.2.10"


def test_a_cookie_clearing_script_that_solves_the_check_is_held_too(field):
    outcomes = script_votes(field[0], ["192.0.2.11"] * 60)
    assert set(outcomes[13:]) == {Outcome.HELD}
    assert counted(nominee=field[0]) == 0
    reasons = set(Vote.objects.values_list("reasons", flat=True))
    assert all("new_voters_address" in reason for reason in reasons)


def test_a_script_that_never_loads_the_page_records_nothing(nominee):
    statuses = [
        Client()
        .post(nominee.get_absolute_url() + "vote/", REMOTE_ADDR="192.0.2.12", follow=True)
        .text.count('data-outcome="confirm"')
        for _ in range(10)
    ]
    assert set(statuses) == {1}  # asked to confirm
    assert not Vote.objects.exists()


def test_rotating_through_one_ipv6_64_counts_as_one_address(field):
    outcomes = script_votes(field[0], [f"2001:db8:5:6::{i:x}" for i in range(1, 40)])
    assert set(outcomes[13:]) == {Outcome.HELD}
    assert counted() == 0


def test_rotating_64s_inside_one_48_is_held_as_one_network(field):
    outcomes = script_votes(field[0], [f"2001:db8:77:{i:x}::1" for i in range(80)])
    assert Outcome.HELD in outcomes
    assert counted() == 0
    assert set(Vote.objects.values_list("network", flat=True)) == {"2001:db8:77::/48"}


def test_a_script_behind_a_carrier_nat_is_held_while_the_honest_crowd_there_counts(field):
    honest = [
        cast_vote(nominee=field[1 + i % 15], voter=voter_at(NAT), now=timezone.now()).outcome
        for i in range(45)
    ]
    script = script_votes(field[0], [NAT] * 50)
    assert set(honest) == {Outcome.COUNTED}
    assert counted(nominee=field[0]) == 0
    assert counted() == 45
    assert script.count(Outcome.HELD) >= 37


def test_many_proxies_a_few_votes_each_trip_the_nominees_burst(field):
    rules(field[0], burst_floor=20)
    # The award's usual crowd: new voters for the other nominees, in browsers of many kinds.
    for i in range(40):
        voter = voter_at(f"{11 + i}.{i}.5.6", agent=f"Mozilla/5.0 (browser {i % 7})")
        cast_vote(nominee=field[1 + i % 15], voter=voter, now=timezone.now())
    # One script's user agent through 80 addresses in 40 /24s, one vote each.
    proxies = [f"203.0.{n}.{h}" for n in range(40) for h in (1, 2)]
    outcomes = script_votes(field[0], proxies)
    assert Outcome.HELD in outcomes
    assert counted(nominee=field[0]) == 0
    assert "nominee_burst" in Vote.objects.filter(nominee=field[0]).first().reasons


def test_rented_proxies_voting_twice_each_are_held_from_their_first_vote(field):
    rules(field[0], burst_floor=20)
    proxies = [f"198.{n}.7.{n}" for n in range(11, 51) for _ in range(2)]
    outcomes = script_votes(field[0], proxies)
    assert outcomes[:20] == [Outcome.COUNTED] * 20  # before the burst, a few pairs pass
    assert counted(nominee=field[0]) == 0  # ...until it starts and holds them too
    assert Vote.objects.filter(status="quarantined").count() == 80


def test_a_popular_nominees_steady_share_of_a_busy_award_holds_none_of_its_voters(field):
    rules(field[0], burst_floor=20)
    start = timezone.now()
    outcomes = []
    for i in range(200):  # one vote in seven for the favourite, the rest spread over 15
        nominee = field[0] if i % 7 == 0 else field[1 + i % 15]
        with TestCase.captureOnCommitCallbacks(execute=True):
            result = cast_vote(
                nominee=nominee, voter=voter_at(f"{11 + i % 200}.{i}.3.4"), now=start
            )
        outcomes.append(result.outcome)
    assert set(outcomes) == {Outcome.COUNTED}
    assert counted(nominee=field[0]) == 29  # past the floor of 20, at 14% of the award


def test_in_a_favourites_burst_a_carriers_nat_voting_for_many_nominees_is_counted(field):
    rules(field[0], burst_floor=20)
    start = timezone.now()
    outcomes = []
    for i in range(180):  # a third for the favourite; every fifth voter behind one NAT
        nominee = field[0] if i % 3 == 0 else field[1 + i % 15]
        address = NAT if i % 5 == 0 else f"{11 + i % 200}.{i % 256}.{i // 256}.4"
        with TestCase.captureOnCommitCallbacks(execute=True):
            result = cast_vote(
                nominee=nominee, voter=voter_at(address), now=start + timedelta(seconds=i)
            )
        outcomes.append(result.outcome)
    # The NAT brought the favourite 12 new voters in its burst: a third of its votes.
    assert Vote.objects.filter(nominee=field[0], ip=NAT).count() == 12
    assert AuditEntry.objects.filter(action=AuditEntry.Action.BURST).exists()  # it was one
    assert "nominee_burst" not in "".join(Vote.objects.values_list("reasons", flat=True))
    assert set(outcomes) == {Outcome.COUNTED}


def test_a_script_held_by_its_address_makes_no_burst_of_its_nominees_honest_voters(field):
    rules(field[0], burst_floor=20)
    script_votes(field[0], ["192.0.2.66"] * 60)
    strangers = script_votes(field[0], [f"{11 + n}.{n}.3.4" for n in range(6)])
    assert strangers == [Outcome.COUNTED] * 6
    assert counted(nominee=field[0]) == 6


def test_a_verified_browser_that_clicks_at_once_counts(nominee):
    response = vote_like_a_browser(nominee, read_for=timedelta(milliseconds=300))
    assert 'data-outcome="counted"' in response.text
    assert Vote.objects.get().status == "counted"


def test_a_browser_without_the_check_that_clicks_at_once_is_held_as_too_fast(nominee):
    response = vote_like_a_browser(nominee, javascript=False, read_for=timedelta(milliseconds=300))
    assert 'data-outcome="held"' in response.text
    assert Vote.objects.get().reasons == "too_fast"


def test_many_verified_browsers_clicking_at_once_from_one_address_are_held(field):
    outcomes = []
    for _ in range(6):
        with TestCase.captureOnCommitCallbacks(execute=True):
            result = cast_vote(
                nominee=field[0],
                voter=voter_at("192.0.2.31"),
                now=timezone.now(),
                read_for=timedelta(milliseconds=200),
            )
        outcomes.append(result.outcome)
    assert outcomes == [Outcome.COUNTED] * 3 + [Outcome.HELD] * 3
    assert counted(nominee=field[0]) == 0  # the first three are held with the cluster
    assert set(Vote.objects.values_list("reasons", flat=True)) == {"fast_cluster"}


def test_fast_clicks_raise_the_price_of_the_check_on_their_address(field):
    voter = voter_at("192.0.2.32")
    quiet = pow_difficulty(award=field[0].award, nominee=field[0], voter=voter, now=timezone.now())
    for _ in range(3):
        cast_vote(
            nominee=field[0],
            voter=voter_at("192.0.2.32"),
            now=timezone.now(),
            read_for=timedelta(milliseconds=200),
        )
    busy = pow_difficulty(award=field[0].award, nominee=field[0], voter=voter, now=timezone.now())
    assert busy > quiet


def test_a_wrong_browser_check_answer_is_held(client, nominee):
    page = client.get(nominee.get_absolute_url())
    fields = {**form_of(page), "altcha": "eyJub3QiOiAiYSBzb2x1dGlvbiJ9"}
    with clock_at(timezone.now() + timedelta(seconds=8)):
        response = client.post(nominee.get_absolute_url() + "vote/", fields, follow=True)
    assert 'data-outcome="held"' in response.text
    assert Vote.objects.get().reasons == "pow_invalid"


def test_no_javascript_votes_far_above_their_usual_share_are_held(field):
    rules(field[0], unverified_voters_per_address=100)
    outcomes = [
        cast_vote(
            nominee=field[0], voter=voter_at(f"203.0.{i}.1"), now=timezone.now(), verified=False
        ).outcome
        for i in range(30)
    ]
    assert outcomes[:10] == [Outcome.COUNTED] * 10
    assert set(outcomes[10:]) == {Outcome.HELD}
    assert "unverified_share" in Vote.objects.filter(status="quarantined").first().reasons


def test_a_few_junk_posts_from_an_office_hold_none_of_its_voters(nominee):
    for _ in range(30):
        Client().post(nominee.get_absolute_url() + "vote/", REMOTE_ADDR="192.0.2.99")
    response = vote_like_a_browser(nominee, REMOTE_ADDR="192.0.2.99")
    assert 'data-outcome="counted"' in response.text


def test_junk_posts_are_not_charged_to_the_addresss_vote_cap(nominee):
    rules(nominee, ip_votes_per_hour=5)
    for _ in range(20):
        Client().post(nominee.get_absolute_url() + "vote/", REMOTE_ADDR="192.0.2.98")
    response = vote_like_a_browser(nominee, REMOTE_ADDR="192.0.2.98")
    assert response.status_code == 200
    assert 'data-outcome="counted"' in response.text


def test_a_browser_that_keeps_failing_its_token_check_is_held(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url(), REMOTE_ADDR="192.0.2.97")
    for _ in range(5):
        browser.post(nominee.get_absolute_url() + "vote/", {"token": "x.y.z"})
    fields = solved_form(page)
    with clock_at(timezone.now() + timedelta(seconds=8)):
        response = browser.post(
            nominee.get_absolute_url() + "vote/", fields, REMOTE_ADDR="192.0.2.97", follow=True
        )
    assert 'data-outcome="held"' in response.text
    assert "failed_checks" in Vote.objects.get().reasons


def test_floods_of_junk_posts_are_refused_far_past_a_generous_bound(nominee):
    browser = Client()
    with mock.patch("voting.integrity.assess.FAILED_POSTS_PER_ADDRESS", 20):
        statuses = [
            browser.post(nominee.get_absolute_url() + "vote/", REMOTE_ADDR="192.0.2.96").status_code
            for _ in range(21)
        ]
    assert statuses == [303] * 20 + [429]


def test_held_votes_leave_the_standings_until_restored(field):
    from voting.integrity.holds import votes_set_status
    from voting.standings.services import standings_recompute

    script_votes(field[0], ["192.0.2.13"] * 20, verified=False)
    standings_recompute(award_id=field[0].award_id)
    field[0].standing.refresh_from_db()
    assert field[0].standing.votes == 0
    votes_set_status(vote_ids=list(Vote.objects.values_list("pk", flat=True)), status="counted")
    standings_recompute(award_id=field[0].award_id)
    field[0].standing.refresh_from_db()
    assert field[0].standing.votes == 20


# The browser check's price


def test_the_browser_check_is_cheap_for_a_quiet_address_and_costly_for_a_script(field):
    award, target = field[0].award, field[0]
    now = timezone.now()
    quiet = pow_difficulty(award=award, nominee=target, voter=voter_at("198.51.100.1"), now=now)
    assert quiet == award.pow_base_difficulty
    script_votes(target, ["192.0.2.50"] * 30)
    busy = pow_difficulty(award=award, nominee=target, voter=voter_at("192.0.2.50"), now=now)
    neighbour = pow_difficulty(award=award, nominee=target, voter=voter_at("192.0.2.51"), now=now)
    assert busy >= 20 * quiet
    assert busy <= award.pow_max_difficulty
    assert neighbour > quiet  # the same /24 is busy too
    other = pow_difficulty(award=award, nominee=field[1], voter=voter_at("192.0.2.50"), now=now)
    assert other == quiet  # thirty votes in half an hour: an office could do that


def test_the_browser_check_stays_cheap_for_a_busy_office_voting_for_many_nominees(field):
    award = field[0].award
    now = timezone.now()
    for i in range(40):
        cast_vote(nominee=field[1 + i % 15], voter=voter_at(NAT), now=now)
    price = pow_difficulty(award=award, nominee=field[0], voter=voter_at(NAT), now=now)
    assert price < 2 * award.pow_base_difficulty


def test_the_browser_check_costs_more_for_an_address_voting_very_fast(field):
    award = field[0].award
    now = timezone.now()
    for i in range(150):
        cast_vote(nominee=field[1 + i % 15], voter=voter_at(NAT), now=now)
    price = pow_difficulty(award=award, nominee=field[0], voter=voter_at(NAT), now=now)
    assert price > 4 * award.pow_base_difficulty


def test_the_browser_check_costs_more_for_a_busy_ipv6_48(field):
    award, target = field[0].award, field[0]
    script_votes(target, [f"2001:db8:99:{i:x}::1" for i in range(30)])
    now = timezone.now()
    busy = pow_difficulty(
        award=award, nominee=target, voter=voter_at("2001:db8:99:ffff::1"), now=now
    )
    assert busy > award.pow_base_difficulty


def test_the_browser_check_costs_more_for_a_nominee_under_sudden_pressure(field):
    award, target = field[0].award, field[0]
    rules(target, burst_floor=8)
    script_votes(target, [f"203.0.{i}.1" for i in range(30)])
    now = timezone.now()
    fresh = voter_at("198.51.100.200")
    assert (
        pow_difficulty(award=award, nominee=target, voter=fresh, now=now)
        > award.pow_base_difficulty
    )
    assert (
        pow_difficulty(award=award, nominee=field[2], voter=fresh, now=now)
        == award.pow_base_difficulty
    )


def test_the_widget_fetches_its_check_for_the_pages_token_without_caching(field):
    rules(field[0], pow_base_difficulty=5000)
    browser = Client()
    page = browser.get(field[0].get_absolute_url(), REMOTE_ADDR="198.51.100.3")
    url = html.unescape(re.search(r'<altcha-widget challenge="([^"]+)"', page.text)[1])
    answer = browser.get(url, REMOTE_ADDR="198.51.100.3")
    assert answer.status_code == 200
    assert answer.json()["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    assert "no-store" in answer["Cache-Control"]
    stranger = Client().get(url, REMOTE_ADDR="198.51.100.3")  # another cookie: not its token
    assert stranger.status_code == 400
    assert Client().get(url.split("?")[0] + "?token=forged").status_code == 400


# Votes in flight when a cluster is held


def test_a_cluster_hold_looks_again_for_votes_that_committed_after_it(field, settings):
    from voting.integrity import tasks
    from voting.integrity.assess import Reason, Trip
    from voting.integrity.tasks import cluster_hold_later

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    now = timezone.now()
    trip = Trip(Reason.NEW_VOTERS_ADDRESS, "ip", NAT, now - timedelta(hours=1), now)
    with mock.patch.object(tasks.cluster_hold_task, "apply_async", lambda **o: sent.append(o)):
        cluster_hold_later(field[0].award_id, field[0].pk, trip)
    assert [call.get("countdown") for call in sent] == [None, 10]
    assert all(call["kwargs"]["value"] == NAT for call in sent)
