"""Thin Celery tasks for the catalogue: ids in, one service call, safe to run twice."""

from celery import shared_task

from .imports import nominee_photo_fetch


@shared_task(acks_late=True, ignore_result=True)
def nominee_photo_fetch_task(*, nominee_id: int, url: str) -> None:
    nominee_photo_fetch(nominee_id=nominee_id, url=url)
