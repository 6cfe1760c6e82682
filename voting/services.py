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
    nominee: Nominee
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


def ballot_claim(
    *, award: Award, voter_key: str, scope: str, now: datetime, until: datetime
) -> bool:
    """Claim the voter's clock in this scope if it has run out; True when this call claimed it.

    One statement, so that fifty simultaneous clicks cannot all pass: PostgreSQL locks the
    conflicting row and re-checks the WHERE against its latest version; SQLite runs writers one
    at a time. The first vote in a scope inserts the clock, later ones advance it.
    """
    table = Ballot._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    sql = f"""
        INSERT INTO {table} (award_id, voter_key, scope_key, next_vote_at, last_vote_at)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (award_id, voter_key, scope_key) DO UPDATE
            SET next_vote_at = excluded.next_vote_at, last_vote_at = excluded.last_vote_at
            WHERE {table}.next_vote_at <= excluded.last_vote_at
        RETURNING id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [award.pk, voter_key, scope, adapt(until), adapt(now)])
        return cursor.fetchone() is not None


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
        return VoteResult(Outcome.NOT_OPEN, nominee)
    if now >= award.voting_closes:
        return VoteResult(Outcome.CLOSED, nominee)
    scope = scope_key(award, nominee)
    until = next_vote_time(award, now)
    with transaction.atomic():
        if not ballot_claim(award=award, voter_key=voter.key, scope=scope, now=now, until=until):
            waiting = ballot_next_vote_at(award=award, voter_key=voter.key, scope=scope)
            return VoteResult(Outcome.ALREADY_VOTED, nominee, next_vote_at=waiting)
        vote = Vote.objects.create(
            award=award,
            nominee=nominee,
            category_id=nominee.category_id,
            created_at=now,
            voter_key=voter.key,
            ip=voter.ip,
            user_agent=voter.user_agent,
            ref=ref,
        )
        TallyDelta.objects.create(award=award, nominee=nominee, amount=1)
        transaction.on_commit(lambda: standings_nudge(award.pk), robust=True)
    return VoteResult(Outcome.COUNTED, nominee, next_vote_at=until, vote_id=vote.pk)


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
