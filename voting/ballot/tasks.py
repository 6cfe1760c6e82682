"""Thin Celery tasks for the ballot."""

from celery import shared_task

from voting.ballot.reassess import votes_reassess


# Named as before the tasks moved into their packages: beat's schedule names it.
@shared_task(name="voting.tasks.votes_reassess_due", acks_late=True, ignore_result=True)
def votes_reassess_due() -> None:
    """Votes held while Redis was down, assessed once it is back, a batch at a time."""
    for _ in range(20):
        done = votes_reassess()
        if not done:
            return
