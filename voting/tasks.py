"""Thin Celery tasks: ids in, one service call, safe to run twice or at once."""

from datetime import datetime

from celery import shared_task

from .standings import awards_due_for_recompute, standings_recompute


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def standings_recompute_task(award_id: int) -> None:
    standings_recompute(award_id=award_id)


@shared_task(acks_late=True, ignore_result=True)
def standings_recompute_due() -> None:
    """The periodic catch-up: every award with votes not yet in its standings."""
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
) -> None:
    from .services import cluster_hold

    cluster_hold(
        award_id=award_id,
        nominee_id=nominee_id,
        reason=reason,
        dimension=dimension,
        value=value,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
    )
