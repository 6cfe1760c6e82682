"""Thin Celery tasks for the catalogue, and the one function that enqueues each: ids in, one
service call, safe to run twice."""

from functools import partial

from celery import shared_task
from django.db import transaction

from awards.photos import PHOTO_FETCH_SECONDS, nominee_photo_fetch


# On a queue of its own (CELERY_TASK_ROUTES), which its own workers take: a slow host delays
# other photos, never the standings. The fetch gives up at its own deadline; the soft limit
# stops a task that somehow outlives it.
@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=PHOTO_FETCH_SECONDS + 10,
    time_limit=PHOTO_FETCH_SECONDS + 20,
)
def nominee_photo_fetch_task(*, nominee_id: int, url: str) -> None:
    nominee_photo_fetch(nominee_id=nominee_id, url=url)


def nominee_photo_fetch_later(*, nominee_id: int, url: str) -> None:
    # After commit, and robust: a broker that is down costs the photo, not the import.
    transaction.on_commit(
        partial(nominee_photo_fetch_task.delay, nominee_id=nominee_id, url=url), robust=True
    )
