"""Thin Celery tasks for organizers' housekeeping."""

from celery import shared_task
from django.utils import timezone

from voting.organizers.retention import awards_due_for_reduction, votes_reduce


# Named as before the tasks moved into their packages: beat's schedule names it.
@shared_task(name="voting.tasks.votes_reduce_due", acks_late=True, ignore_result=True)
def votes_reduce_due() -> None:
    """Hourly: reduce voter data on every award whose retention period has passed."""
    for award_id in awards_due_for_reduction(timezone.now()):
        votes_reduce(award_id=award_id)
