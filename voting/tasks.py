"""Thin Celery tasks: ids in, one service call, safe to run twice or at once."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from voting.organizers.dashboard import beat_heartbeat
from voting.organizers.retention import awards_due_for_reduction, votes_reduce
from voting.standings.services import awards_due_for_recompute, standings_recompute


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def standings_recompute_task(award_id: int) -> None:
    standings_recompute(award_id=award_id)


@shared_task(acks_late=True, ignore_result=True)
def standings_recompute_due() -> None:
    """The periodic catch-up: every award with votes not yet in its standings."""
    beat_heartbeat()  # the dashboard's sign that beat and a worker are alive
    for award_id in awards_due_for_recompute():
        standings_recompute(award_id=award_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def cluster_hold_task(
    *,
    award_id: int,
    nominee_id: int,
    reason: str,
    dimension: str,
    value: str,
    since: str,
    until: str,
    returning: bool = False,
) -> None:
    from voting.ballot.services import cluster_hold

    cluster_hold(
        award_id=award_id,
        nominee_id=nominee_id,
        reason=reason,
        dimension=dimension,
        value=value,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
        returning=returning,
    )


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def burst_review_task(*, award_id: int, nominee_id: int, since: str, until: str) -> None:
    from voting.integrity.bursts import burst_review

    burst_review(
        award_id=award_id,
        nominee_id=nominee_id,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
    )


@shared_task(acks_late=True, ignore_result=True)
def votes_reassess_due() -> None:
    """Votes held while Redis was down, assessed once it is back, a batch at a time."""
    from voting.integrity.reassess import votes_reassess

    for _ in range(20):
        done = votes_reassess()
        if not done:
            return


@shared_task(acks_late=True, ignore_result=True)
def votes_reduce_due() -> None:
    """Hourly: reduce voter data on every award whose retention period has passed."""
    for award_id in awards_due_for_reduction(timezone.now()):
        votes_reduce(award_id=award_id)
