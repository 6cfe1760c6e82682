"""Holding votes: a cluster that crossed its threshold, and any status change an organizer or
Laurel makes. Each change in and out of "counted" leaves one tally change for the standings."""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Trim

from awards.models import Award
from voting.integrity.assess import REASON_LABELS, Reason
from voting.models import AuditEntry, TallyDelta, Vote
from voting.standings.tasks import standings_nudge

# A cluster hold touches at most this many votes at once; an organizer reviews the rest.
CLUSTER_HOLD_MAX = 5000


def votes_set_status(*, vote_ids: list[int], status: str, reason: str = "") -> int:
    """Quarantine, void or restore votes; the standings follow at the next recompute.

    Only votes whose status actually changes are touched, and each change in and out of
    "counted" leaves one tally change, so repeating the call changes nothing. A `reason` code
    is added to the changed votes' reasons.
    """
    counted = Vote.Status.COUNTED
    with transaction.atomic():
        moving = Vote.objects.select_for_update().filter(pk__in=vote_ids).exclude(status=status)
        rows = list(moving.values_list("pk", "award_id", "nominee_id", "status"))
        changed = Vote.objects.filter(pk__in=[pk for pk, *_ in rows])
        changed.update(status=status)
        if reason:
            changed.exclude(reasons__contains=reason).update(
                reasons=Trim(Concat(F("reasons"), Value(f" {reason}")))
            )
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


def cluster_hold(
    *,
    award_id: int,
    nominee_id: int,
    reason: str,
    dimension: str,
    value: str,
    since: datetime,
    until: datetime,
    returning: bool = False,
) -> int:
    """Hold the counted votes in a cluster that crossed its threshold: its new voters' (or its
    returning voters'), or for fast clicks, its verified fast ones.

    The vote that crossed it was held as it came in; this holds the ones before it in the same
    window, which until then looked like an honest few. Safe to repeat: held votes stay held.
    """
    votes = Vote.objects.filter(
        award_id=award_id,
        nominee_id=nominee_id,
        status=Vote.Status.COUNTED,
        created_at__gte=since,
        created_at__lte=until,
    )
    if dimension in ("ip", "network"):
        votes = votes.filter(**{dimension: value})
    if reason == Reason.FAST_CLUSTER:
        fast = Award.objects.get(pk=award_id).min_seconds_on_page * 1000
        votes = votes.filter(verified=True, dwell_ms__lt=fast)
    else:
        votes = votes.filter(new_voter=not returning)
    if reason == Reason.UNVERIFIED_ADDRESS:
        votes = votes.filter(verified=False)
    changed = votes_set_status(
        vote_ids=list(votes.values_list("pk", flat=True)[:CLUSTER_HOLD_MAX]),
        status=Vote.Status.QUARANTINED,
        reason=reason,
    )
    if changed:
        AuditEntry.objects.create(
            award_id=award_id,
            action=AuditEntry.Action.AUTO_QUARANTINE,
            reason=REASON_LABELS.get(reason, reason),
            count=changed,
            detail={
                "reason": reason,
                "dimension": dimension,
                "value": value,
                "nominee": nominee_id,
                "since": since.isoformat(),
                "until": until.isoformat(),
            },
        )
    return changed
