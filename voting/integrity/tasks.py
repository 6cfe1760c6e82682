"""Thin Celery tasks for integrity, and the one function that enqueues each: ids in, one
service call, safe to run twice or at once."""

import logging
from datetime import datetime, timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from laurel.lib.after_response import after_response
from voting.integrity.assess import HOUR, Assessment, Trip
from voting.integrity.bursts import burst_review
from voting.integrity.holds import cluster_hold

log = logging.getLogger(__name__)


# Seconds until a cluster hold looks again for votes that were in flight when it first ran.
CLUSTER_HOLD_RECHECK_SECONDS = 10


def assessment_follow_up(
    *, award_id: int, nominee_id: int, assessment: Assessment, now: datetime
) -> None:
    """Once the vote commits: hold the clusters it tripped, review the burst it is part of."""
    for trip in assessment.trips:
        transaction.on_commit(partial(cluster_hold_later, award_id, nominee_id, trip), robust=True)
    if assessment.burst_review:
        # The hour the address and network counts cover: a pool's first votes may have come
        # well before the ten minutes in which its pace became a burst.
        since = now - timedelta(seconds=HOUR)
        review = partial(burst_review_later, award_id, nominee_id, since, now)
        transaction.on_commit(review, robust=True)


def cluster_hold_later(award_id: int, nominee_id: int, trip: Trip) -> None:
    """Enqueue cluster_hold after the tripping vote commits; without a broker, do it now."""
    kwargs = {
        "award_id": award_id,
        "nominee_id": nominee_id,
        "reason": str(trip.reason),
        "dimension": trip.dimension,
        "value": trip.value,
        "since": trip.since.isoformat(),
        "until": trip.until.isoformat(),
        "returning": trip.returning,
    }
    _enqueue_twice(cluster_hold_task, kwargs)


def burst_review_later(award_id: int, nominee_id: int, since: datetime, until: datetime) -> None:
    """Enqueue a review of a nominee's burst after the vote that found it commits."""
    kwargs = {
        "award_id": award_id,
        "nominee_id": nominee_id,
        "since": since.isoformat(),
        "until": until.isoformat(),
    }
    _enqueue_twice(burst_review_task, kwargs)


def _enqueue_twice(task, kwargs: dict) -> None:
    """Run `task` now and again a little later; with a broker that is down, run it here.

    Votes assessed just before the trip may commit after the first pass; the second pass
    takes them too. Embedded mode has no worker to run it later (a countdown would run at
    once), serves one machine's light traffic, and runs it once the voter has their answer.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        after_response(partial(task.apply_async, kwargs=kwargs, retry=False))
        return
    try:
        task.apply_async(kwargs=kwargs, retry=False)
        task.apply_async(kwargs=kwargs, countdown=CLUSTER_HOLD_RECHECK_SECONDS, retry=False)
    except Exception:
        log.warning("%s not queued; running it now", task.name, exc_info=True)
        task.run(**kwargs)


# Named as before the tasks moved into their packages: a deploy never strands queued tasks.
@shared_task(
    name="voting.tasks.cluster_hold_task",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
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


@shared_task(
    name="voting.tasks.burst_review_task",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def burst_review_task(*, award_id: int, nominee_id: int, since: str, until: str) -> None:
    burst_review(
        award_id=award_id,
        nominee_id=nominee_id,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
    )
