"""Where a vote is decided: vote_cast() and the rule it applies."""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from awards.models import Award, Nominee
from voting.ballot.pow import PowStatus, challenge_verify
from voting.ballot.tokens import token_check
from voting.integrity.assess import (
    integrity_assess,
    integrity_note_failure,
)
from voting.integrity.tasks import assessment_follow_up
from voting.models import Ballot, TallyDelta, Vote
from voting.standings.tasks import standings_nudge
from voting.vocabulary import Outcome, Voter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoteResult:
    outcome: Outcome
    # When this voter may vote again in this scope (None when the window decides instead).
    next_vote_at: datetime | None = None
    vote_id: int | None = None
    # Why a vote was held, or why its token was refused (codes, never shown as thresholds).
    reasons: tuple[str, ...] = ()
    # With RATE_LIMITED: seconds until the address may vote again.
    retry_after: int | None = None

    @property
    def counted(self) -> bool:
        return self.outcome is Outcome.COUNTED

    @property
    def recorded(self) -> bool:
        return self.outcome in (Outcome.COUNTED, Outcome.HELD)


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


def voter_is_returning(*, award: Award, voter: Voter, now: datetime) -> bool:
    """Whether the database holds a vote of this voter's, counted at least an interval ago.

    Never the cookie's word: a script keeps as many cookies as it likes for as long as it
    likes. The cookie's signed mint time only spares the query when no such vote can exist.
    """
    if award.interval_kind == Award.IntervalKind.CALENDAR_DAY:
        today = timezone.localtime(now, award.zone).date()
        since = datetime.combine(today, time.min, tzinfo=award.zone)
    else:
        since = now - award.vote_interval
    if voter.minted_at > since.timestamp():
        return False
    # The (voter_key, created_at) index: one voter's few votes.
    return Vote.objects.filter(
        voter_key=voter.key, created_at__lte=since, award=award, status=Vote.Status.COUNTED
    ).exists()


def vote_cast(
    *,
    nominee: Nominee,
    voter: Voter,
    now: datetime,
    token: str | None,
    proof: str | None = None,
    ref: str = "",
) -> VoteResult:
    """Decide one vote for `nominee`: refused, counted, or recorded and held for review.

    In order: the voting window; the form's one-time token (bound to this voter and nominee);
    the browser's proof of work, bound to the token (None: the no-JavaScript form); whether the
    voter is returning; the per-address caps and the integrity signals (voting.integrity.assess); then
    one statement claims the voter's clock and inserts the vote, whose unique token makes a
    replay insert nothing.
    """
    award = nominee.award
    if now < award.voting_opens:
        return VoteResult(Outcome.NOT_OPEN)
    if now >= award.voting_closes:
        return VoteResult(Outcome.CLOSED)
    checked = token_check(value=token, voter_key=voter.key, nominee_id=nominee.pk, now=now)
    if not checked.ok:
        return _refuse_token(voter, str(checked.status))
    pow_check = challenge_verify(payload=proof, token_nonce=checked.nonce)
    returning = voter_is_returning(award=award, voter=voter, now=now)
    dwell = now - checked.issued_at
    assessment = integrity_assess(
        award=award,
        nominee=nominee,
        voter=voter,
        returning=returning,
        verified=pow_check.solved,
        pow_invalid=pow_check.status is PowStatus.INVALID,
        fast=dwell < timedelta(seconds=award.min_seconds_on_page) and not checked.confirm,
        now=now,
    )
    if assessment.retry_after is not None:
        return VoteResult(Outcome.RATE_LIMITED, retry_after=assessment.retry_after)
    status = Vote.Status.QUARANTINED if assessment.held else Vote.Status.COUNTED
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
        "network": voter.network,
        "agent": voter.user_agent,
        "ref": ref,
        "status": status.value,
        "reasons": " ".join(assessment.reasons),
        "token": checked.nonce,
        "verified": pow_check.solved,
        "new_voter": not returning,
        "dwell": min(int(dwell.total_seconds() * 1000), 2**31 - 1),
    }
    try:
        vote_id = _record(params)
    except IntegrityError:
        # Vote.token is unique: this token already cast a vote, and nothing was written now.
        return _refuse_token(voter, "token_used")
    if vote_id is None:
        waiting = ballot_next_vote_at(award=award, voter_key=voter.key, scope=scope)
        return VoteResult(Outcome.ALREADY_VOTED, next_vote_at=waiting)
    assessment_follow_up(award_id=award.pk, nominee_id=nominee.pk, assessment=assessment, now=now)
    if status == Vote.Status.COUNTED:
        transaction.on_commit(lambda: standings_nudge(award.pk), robust=True)
        return VoteResult(Outcome.COUNTED, next_vote_at=until, vote_id=vote_id)
    return VoteResult(
        Outcome.HELD, next_vote_at=until, vote_id=vote_id, reasons=tuple(assessment.reasons)
    )


def _refuse_token(voter: Voter, reason: str) -> VoteResult:
    hit = integrity_note_failure(voter=voter)
    if hit is not None and hit.blocked is not None:
        return VoteResult(Outcome.RATE_LIMITED, retry_after=hit.retry_after)
    return VoteResult(Outcome.CONFIRM, reasons=(reason,))


def _record(params: dict) -> int | None:
    if connection.vendor != "postgresql":
        return _record_in_a_transaction(params)
    if connection.in_atomic_block:
        # A savepoint, so that a replayed token's unique violation does not break the caller's
        # transaction; outside one (every request) the statement is its own transaction.
        with transaction.atomic():
            return _record_in_one_statement(params)
    return _record_in_one_statement(params)


_VOTE_COLUMNS = (
    "award_id, nominee_id, category_id, created_at, voter_key, ip, network, user_agent, ref,"
    " status, reasons, token, verified, new_voter, dwell_ms"
)
_VOTE_VALUES = (
    "%(award)s, %(nominee)s, %(category)s, %(now)s, %(voter)s, %(ip)s, %(network)s, %(agent)s,"
    " %(ref)s, %(status)s, %(reasons)s, %(token)s, %(verified)s, %(new_voter)s, %(dwell)s"
)


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
        if params["status"] == Vote.Status.COUNTED:
            cursor.execute(
                f"INSERT INTO {delta} (award_id, nominee_id, amount) "
                "VALUES (%(award)s, %(nominee)s, 1)",
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
            SELECT %(award)s, %(nominee)s, 1 FROM counted WHERE %(status)s = 'counted'
        )
        SELECT id FROM counted
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def voter_next_vote_at(*, nominee: Nominee, voter_key: str, now: datetime) -> datetime | None:
    """When this voter may next vote for `nominee`, or None if they may vote now."""
    return voter_waiting(nominee=nominee, voter_key=voter_key, now=now).next_vote_at


@dataclass(frozen=True)
class Waiting:
    # When this voter may next vote in the nominee's scope; None if they may vote now.
    next_vote_at: datetime | None = None
    # Their last vote there is held for review ("being checked"), until an organizer decides.
    held: bool = False


def voter_waiting(*, nominee: Nominee, voter_key: str, now: datetime) -> Waiting:
    """The voter's clock in the nominee's scope and the status of the vote that set it, in one
    query: a vote held after it was answered "counted" shows as being checked."""
    award = nominee.award
    last_vote = Vote.objects.filter(
        voter_key=OuterRef("voter_key"), created_at=OuterRef("last_vote_at"), award=award
    )
    row = (
        Ballot.objects.filter(award=award, voter_key=voter_key, scope_key=scope_key(award, nominee))
        .annotate(status=Subquery(last_vote.values("status")[:1]))
        .values_list("next_vote_at", "status")
        .first()
    )
    if row is None or row[0] <= now:
        return Waiting()
    return Waiting(row[0], held=row[1] == Vote.Status.QUARANTINED)
