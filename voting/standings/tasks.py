"""Thin Celery tasks for the standings, and the one function that enqueues a recompute."""

import logging
import time
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from laurel.lib.after_response import after_response
from voting.standings.services import awards_due_for_recompute, standings_recompute

log = logging.getLogger(__name__)
# When the scheduled recompute last ran: the dashboard's sign that beat and a worker are alive.
HEARTBEAT_KEY = "laurel:beat-heartbeat"
# award id -> when this process last nudged it (time.monotonic()).
recent_nudges: dict[int, float] = {}


# Named as before the tasks moved into their packages: a deploy never strands queued tasks.
@shared_task(
    name="voting.tasks.standings_recompute_task",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def standings_recompute_task(award_id: int) -> None:
    standings_recompute(award_id=award_id)


@shared_task(name="voting.tasks.standings_recompute_due", acks_late=True, ignore_result=True)
def standings_recompute_due() -> None:
    """The periodic catch-up: every award with votes not yet in its standings."""
    beat_heartbeat()
    for award_id in awards_due_for_recompute():
        standings_recompute(award_id=award_id)


def beat_heartbeat() -> None:
    """Never raises; a Redis outage only makes the dashboard say it has no news."""
    try:
        cache.set(HEARTBEAT_KEY, time.time(), timeout=None)
    except Exception:
        log.warning("beat heartbeat not recorded")


def standings_nudge(award_id: int) -> None:
    """Ask for a recompute soon, at most once per nudge window per award.

    Called after a vote commits. Many votes in one window share one recompute; when Redis is
    down the nudge is skipped and the periodic task catches up. Never raises, and never makes
    the caller wait for the recompute.
    """
    window = settings.STANDINGS_NUDGE_SECONDS
    moment = time.monotonic()
    if recent_nudges.get(award_id, -window) > moment - window:
        return  # this process nudged within the window: skip even the Redis round trip
    recent_nudges[award_id] = moment
    try:
        if not cache.add(f"standings-nudge:{award_id}", 1, timeout=window):
            return
        send = partial(
            standings_recompute_task.apply_async, (award_id,), countdown=window, retry=False
        )
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Embedded mode runs the task where it is sent, ignoring the countdown: not in the
            # request a voter waits on.
            after_response(send)
        else:
            send()
    except Exception:
        log.warning("standings nudge for award %s not sent; the schedule will catch up", award_id)
