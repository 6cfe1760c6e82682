"""Where a vote is decided: vote_cast() and the rule it applies."""

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from awards.models import Award, Nominee

from .models import Ballot, TallyDelta, Vote
from .standings import standings_nudge
from .voters import Voter


class Outcome(enum.StrEnum):
    COUNTED = "counted"
    ALREADY_VOTED = "already_voted"
    NOT_OPEN = "not_open"
    CLOSED = "closed"


@dataclass(frozen=True)
class VoteResult:
    outcome: Outcome
    # When this voter may vote again in this scope (None when the window decides instead).
    next_vote_at: datetime | None = None
    vote_id: int | None = None

    @property
    def counted(self) -> bool:
        return self.outcome is Outcome.COUNTED


def scope_key(award: Award, nominee: Nominee) -> str:
    match award.vote_scope:
        case Award.Scope.CATEGORY:
            return f"c:{nominee.category_id}"
        case Award.Scope.AWARD:
            return "a"
        case _:
            return f"n:{nominee.pk}"


def next_vote_time(award: Award, moment: datetime) -> datetime:
    """When a vote cast at `moment` lets the same voter vote again in the same scope."""
    if award.interval_kind == Award.IntervalKind.CALENDAR_DAY:
        tomorrow = timezone.localtime(moment, award.zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time.min, tzinfo=award.zone)
    return moment + award.vote_interval


def _claim_sql() -> str:
    """The rule: claim the voter's clock in this scope if it has run out; a row when claimed.

    One statement, so that fifty simultaneous clicks cannot all pass: PostgreSQL locks the
    conflicting row and re-checks the WHERE against its latest version; SQLite runs writers one
    at a time. The first vote in a scope inserts the clock, later ones advance it.
    """
    return f"""
        INSERT INTO {Ballot._meta.db_table} AS b
            (award_id, voter_key, scope_key, next_vote_at, last_vote_at)
        VALUES (%(award)s, %(voter)s, %(scope)s, %(until)s, %(now)s)
        ON CONFLICT (award_id, voter_key, scope_key) DO UPDATE
            SET next_vote_at = excluded.next_vote_at, last_vote_at = excluded.last_vote_at
            WHERE b.next_vote_at <= excluded.last_vote_at
        RETURNING 1
    """


def ballot_next_vote_at(*, award: Award, voter_key: str, scope: str) -> datetime | None:
    return (
        Ballot.objects.filter(award=award, voter_key=voter_key, scope_key=scope)
        .values_list("next_vote_at", flat=True)
        .first()
    )


def vote_cast(*, nominee: Nominee, voter: Voter, ref: str = "", now: datetime) -> VoteResult:
    """Record one vote for `nominee` if the award's window and interval allow it."""
    award = nominee.award
    if now < award.voting_opens:
        return VoteResult(Outcome.NOT_OPEN)
    if now >= award.voting_closes:
        return VoteResult(Outcome.CLOSED)
    scope = scope_key(award, nominee)
    until = next_vote_time(award, now)
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "award": nominee.award_id,
        "nominee": nominee.pk,
        "category": nominee.category_id,
        "voter": voter.key,
        "scope": scope,
        "now": adapt(now),
        "until": adapt(until),
        "ip": voter.ip,
        "agent": voter.user_agent,
        "ref": ref,
        "status": Vote.Status.COUNTED.value,
    }
    record = (
        _record_in_one_statement if connection.vendor == "postgresql" else _record_in_a_transaction
    )
    vote_id = record(params)
    if vote_id is None:
        waiting = ballot_next_vote_at(award=award, voter_key=voter.key, scope=scope)
        return VoteResult(Outcome.ALREADY_VOTED, next_vote_at=waiting)
    transaction.on_commit(lambda: standings_nudge(award.pk), robust=True)
    return VoteResult(Outcome.COUNTED, next_vote_at=until, vote_id=vote_id)


_VOTE_COLUMNS = (
    "award_id, nominee_id, category_id, created_at, voter_key, ip, user_agent, ref, status"
)
_VOTE_VALUES = "%(award)s, %(nominee)s, %(category)s, %(now)s, %(voter)s, %(ip)s, %(agent)s, %(ref)s, %(status)s"


def _record_in_a_transaction(params: dict) -> int | None:
    """SQLite, which has no INSERT in WITH: the claim, then the inserts, in one transaction."""
    vote, delta = Vote._meta.db_table, TallyDelta._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_claim_sql(), params)
        if cursor.fetchone() is None:
            return None
        cursor.execute(
            f"INSERT INTO {vote} ({_VOTE_COLUMNS}) VALUES ({_VOTE_VALUES}) RETURNING id", params
        )
        vote_id = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {delta} (award_id, nominee_id, amount) VALUES (%(award)s, %(nominee)s, 1)",
            params,
        )
    return vote_id


def _record_in_one_statement(params: dict) -> int | None:
    """PostgreSQL: the claim, the vote and its tally change in one statement.

    The inserts are chained to the claim's RETURNING, so a vote costs one round trip and one
    implicit transaction: a viral nominee's votes never wait on each other, and a refused claim
    inserts nothing.
    """
    vote, delta = Vote._meta.db_table, TallyDelta._meta.db_table
    sql = f"""
        WITH claim AS ({_claim_sql()}),
        counted AS (
            INSERT INTO {vote} ({_VOTE_COLUMNS}) SELECT {_VOTE_VALUES} FROM claim RETURNING id
        ), tallied AS (
            INSERT INTO {delta} (award_id, nominee_id, amount)
            SELECT %(award)s, %(nominee)s, 1 FROM counted
        )
        SELECT id FROM counted
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def voter_next_vote_at(*, nominee: Nominee, voter_key: str, now: datetime) -> datetime | None:
    """When this voter may next vote for `nominee`, or None if they may vote now."""
    scope = scope_key(nominee.award, nominee)
    waiting = ballot_next_vote_at(award=nominee.award, voter_key=voter_key, scope=scope)
    if waiting is None or waiting <= now:
        return None
    return waiting


def votes_set_status(*, vote_ids: list[int], status: str) -> int:
    """Quarantine, void or restore votes; the standings follow at the next recompute.

    Only votes whose status actually changes are touched, and each change in and out of
    "counted" leaves one tally change, so repeating the call changes nothing.
    """
    counted = Vote.Status.COUNTED
    with transaction.atomic():
        moving = Vote.objects.select_for_update().filter(pk__in=vote_ids).exclude(status=status)
        rows = list(moving.values_list("pk", "award_id", "nominee_id", "status"))
        Vote.objects.filter(pk__in=[pk for pk, *_ in rows]).update(status=status)
        deltas = [
            TallyDelta(
                award_id=award_id, nominee_id=nominee_id, amount=1 if status == counted else -1
            )
            for _pk, award_id, nominee_id, old in rows
            if counted in (old, status)
        ]
        TallyDelta.objects.bulk_create(deltas)
        for award_id in {delta.award_id for delta in deltas}:
            transaction.on_commit(lambda award_id=award_id: standings_nudge(award_id), robust=True)
    return len(rows)
