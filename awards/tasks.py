"""Thin Celery tasks for the catalogue: ids in, one service call, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def nominee_photo_fetch_task(*, nominee_id: int, url: str) -> None:
    # Kept out of web workers' memory until used: awards.imports brings django-import-export.
    from awards.imports import nominee_photo_fetch

    nominee_photo_fetch(nominee_id=nominee_id, url=url)
