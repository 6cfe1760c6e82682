"""The rule: one counted vote per voter per scope per interval, inside the voting window."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from awards.models import Award
from tests.ballots import cast_vote, voter_somewhere
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.models import Vote
from voting.vocabulary import Outcome

pytestmark = pytest.mark.django_db
T0 = datetime(2012, 7, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.fixture
def open_award(db):
    return AwardFactory(
        slug="open", voting_opens=T0 - timedelta(days=1), voting_closes=T0 + timedelta(days=60)
    )


@pytest.fixture
def ada(open_award):
    return NomineeFactory(category=CategoryFactory(award=open_award, name="Experts"), name="Ada")


def test_first_vote_counts_and_is_recorded_with_its_details(ada, voter):
    result = cast_vote(nominee=ada, voter=voter, ref="twitter", now=T0)
    assert result.outcome is Outcome.COUNTED
    assert result.next_vote_at == T0 + DAY
    vote = Vote.objects.get()
    assert (vote.nominee, vote.category, vote.award) == (ada, ada.category, ada.award)
    assert (vote.voter_key, vote.ip, vote.ref) == (voter.key, voter.ip, "twitter")
    assert vote.user_agent == voter.user_agent
    assert vote.created_at == T0
    assert vote.status == Vote.Status.COUNTED


def test_second_vote_within_24_hours_is_refused(ada, voter):
    cast_vote(nominee=ada, voter=voter, now=T0)
    result = cast_vote(nominee=ada, voter=voter, now=T0 + DAY - timedelta(seconds=1))
    assert result.outcome is Outcome.ALREADY_VOTED
    assert result.next_vote_at == T0 + DAY
    assert Vote.objects.count() == 1


def test_a_vote_exactly_one_interval_later_counts(ada, voter):
    cast_vote(nominee=ada, voter=voter, now=T0)
    assert cast_vote(nominee=ada, voter=voter, now=T0 + DAY).counted
    assert Vote.objects.count() == 2


def test_a_colleague_on_the_same_ip_votes_separately(ada, voter, colleague):
    assert cast_vote(nominee=ada, voter=voter, now=T0).counted
    assert cast_vote(nominee=ada, voter=colleague, now=T0).counted


def test_per_nominee_scope_lets_a_voter_support_several_nominees(ada, voter):
    grace = NomineeFactory(category=ada.category)
    assert cast_vote(nominee=ada, voter=voter, now=T0).counted
    assert cast_vote(nominee=grace, voter=voter, now=T0).counted


def test_per_category_scope_allows_one_vote_in_each_category(ada, voter):
    Award.objects.filter(pk=ada.award_id).update(vote_scope=Award.Scope.CATEGORY)
    ada.refresh_from_db()
    grace = NomineeFactory(category=ada.category)
    app = NomineeFactory(category=CategoryFactory(award=ada.award, name="Apps"))
    assert cast_vote(nominee=ada, voter=voter, now=T0).counted
    assert cast_vote(nominee=grace, voter=voter, now=T0).outcome is Outcome.ALREADY_VOTED
    assert cast_vote(nominee=app, voter=voter, now=T0).counted


def test_per_award_scope_allows_one_vote_in_the_whole_award(ada, voter):
    Award.objects.filter(pk=ada.award_id).update(vote_scope=Award.Scope.AWARD)
    ada.refresh_from_db()
    app = NomineeFactory(category=CategoryFactory(award=ada.award, name="Apps"))
    assert cast_vote(nominee=ada, voter=voter, now=T0).counted
    assert cast_vote(nominee=app, voter=voter, now=T0).outcome is Outcome.ALREADY_VOTED
    assert cast_vote(nominee=app, voter=voter, now=T0 + DAY).counted


def test_another_interval_length_applies(ada, voter):
    Award.objects.filter(pk=ada.award_id).update(vote_interval=timedelta(hours=1))
    ada.refresh_from_db()
    cast_vote(nominee=ada, voter=voter, now=T0)
    assert not cast_vote(nominee=ada, voter=voter, now=T0 + timedelta(minutes=59)).counted
    assert cast_vote(nominee=ada, voter=voter, now=T0 + timedelta(hours=1)).counted


def test_calendar_day_rule_resets_at_midnight_in_the_awards_zone(ada, voter):
    Award.objects.filter(pk=ada.award_id).update(interval_kind=Award.IntervalKind.CALENDAR_DAY)
    ada.refresh_from_db()
    # 11:30 pm in Los Angeles on July 1 is 06:30 UTC on July 2; midnight there is 07:00 UTC.
    late_evening = datetime(2012, 7, 2, 6, 30, tzinfo=UTC)
    result = cast_vote(nominee=ada, voter=voter, now=late_evening)
    assert result.next_vote_at == datetime(2012, 7, 2, 7, 0, tzinfo=UTC)
    assert not cast_vote(nominee=ada, voter=voter, now=late_evening + timedelta(minutes=29)).counted
    assert cast_vote(nominee=ada, voter=voter, now=late_evening + timedelta(minutes=30)).counted


def test_a_vote_before_voting_opens_records_nothing(ada, voter):
    result = cast_vote(nominee=ada, voter=voter, now=ada.award.voting_opens - timedelta(seconds=1))
    assert result.outcome is Outcome.NOT_OPEN
    assert not Vote.objects.exists()


def test_a_vote_after_voting_closes_records_nothing(ada, voter):
    result = cast_vote(nominee=ada, voter=voter, now=ada.award.voting_closes)
    assert result.outcome is Outcome.CLOSED
    assert not Vote.objects.exists()


def test_refusal_leaves_the_voters_clock_where_it_was(ada, voter):
    cast_vote(nominee=ada, voter=voter, now=T0)
    cast_vote(nominee=ada, voter=voter, now=T0 + timedelta(hours=23))
    assert cast_vote(nominee=ada, voter=voter, now=T0 + DAY).counted


offsets = st.lists(st.integers(min_value=0, max_value=10 * 24 * 3600), min_size=1, max_size=25)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offsets=offsets, scope=st.sampled_from(list(Award.Scope)))
@example(offsets=[0, 86400, 86399 + 86400, 2 * 86400], scope=Award.Scope.NOMINEE)
def test_counted_votes_in_one_scope_are_never_closer_than_the_interval(ada, offsets, scope):
    Award.objects.filter(pk=ada.award_id).update(vote_scope=scope)
    ada.refresh_from_db()
    voter = voter_somewhere(agent="hypothesis")  # the examples share the limit store
    counted: list[datetime] = []
    for offset in sorted(offsets):
        moment = T0 + timedelta(seconds=offset)
        result = cast_vote(nominee=ada, voter=voter, now=moment)
        due = not counted or moment - counted[-1] >= DAY
        assert result.counted == due, (counted, moment)
        if result.counted:
            counted.append(moment)
    stored = list(
        Vote.objects.filter(voter_key=voter.key)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    assert stored == counted
    assert all(later - earlier >= DAY for earlier, later in itertools.pairwise(stored))
