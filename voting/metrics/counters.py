"""Counters for Prometheus: votes by outcome and how long standings recomputes take.

Real mode keeps them in one Redis hash, so every gunicorn worker of every web container and
every Celery worker adds to the same numbers, and a scrape of any web process returns the
whole site's totals (prometheus_client's multiprocess directory sums the workers of one
machine only, and the recomputes happen in the Celery workers, which serve no HTTP).
Embedded mode is one process: its memory is enough.

A vote only adds to this process's tally (a few microseconds; a Redis round trip per vote
would cost about 6% of a vote's CPU); a thread adds the tally to Redis every FLUSH_SECONDS and
at exit, so a scrape lags by at most that. A failed Redis write keeps the counts here, and
they are added on the first write after LIMITS_RETRY_SECONDS: counting never fails a vote.
"""

import atexit
import logging
import os
import threading
import time
from collections import Counter

from django.conf import settings
from django_redis import get_redis_connection

from voting.vocabulary import Outcome

log = logging.getLogger(__name__)

REDIS_KEY = "laurel:metrics"
FLUSH_SECONDS = 1.0
# A recompute folds the votes since the last one: milliseconds usually, seconds for a catch-up
# over millions of votes (README, Standings recompute).
RECOMPUTE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OUTCOMES = ("counted", "held", "refused", "rate_limited")
REFUSALS = (Outcome.ALREADY_VOTED, Outcome.CONFIRM, Outcome.NOT_OPEN, Outcome.CLOSED)

_lock = threading.Lock()
# Held while a batch is on its way to the store, where a read would find it in neither place.
_flush_lock = threading.Lock()
pending: Counter[str] = Counter()  # counted here, not yet in the store
_memory: Counter[str] = Counter()  # the store itself in embedded mode
_failed_at = -float("inf")  # time.monotonic() of the store's last failure
_flusher_pid = 0  # the process whose thread flushes pending


def vote_outcome_count(*, outcome: str) -> None:
    """Count one answered vote: counted, held, refused (with its reason) or rate-limited."""
    if outcome in REFUSALS:
        _add({"votes:refused": 1, f"refused:{outcome}": 1})
    else:
        _add({f"votes:{outcome}": 1})


def recompute_duration_observe(*, seconds: float) -> None:
    bucket = next((le for le in RECOMPUTE_BUCKETS if seconds <= le), "+Inf")
    _add(
        {
            f"recompute:le:{bucket}": 1,
            "recompute:count": 1,
            "recompute:sum_us": round(seconds * 1e6),
        }
    )


def _add(fields: dict[str, int]) -> None:
    with _lock:
        pending.update(fields)
    if not settings.REAL_MODE:
        metrics_flush()
    elif _flusher_pid != os.getpid():
        _flusher_start()


def _flusher_start() -> None:
    global _flusher_pid
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, name="laurel-metrics", daemon=True).start()


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        metrics_flush()


def metrics_flush() -> None:
    """Add this process's pending counts to the store; on failure keep them for later."""
    global _failed_at
    with _flush_lock:
        with _lock:
            if not pending or time.monotonic() < _failed_at + settings.LIMITS_RETRY_SECONDS:
                return
            batch = dict(pending)
            pending.clear()
        try:
            store_add(batch)
        except Exception:
            with _lock:
                pending.update(batch)
                _failed_at = time.monotonic()
            log.warning("metrics: Redis unavailable, counting in this process until it is back")


def _forget_parent() -> None:
    # A forked worker starts from zero: its parent's pending counts are the parent's to add, and
    # a lock held by one of the parent's threads would never be released here.
    global _lock, _flush_lock
    _lock = threading.Lock()
    _flush_lock = threading.Lock()
    pending.clear()


os.register_at_fork(after_in_child=_forget_parent)
atexit.register(metrics_flush)


def store_add(batch: dict[str, int]) -> None:
    if not settings.REAL_MODE:
        _memory.update(batch)
        return
    pipe = get_redis_connection("default").pipeline(transaction=False)
    for field, amount in batch.items():
        pipe.hincrby(REDIS_KEY, field, amount)
    pipe.execute()


def metrics_read() -> dict[str, int]:
    """Every counter: the store's totals plus what this process has not yet written to it."""
    with _flush_lock:
        if settings.REAL_MODE:
            raw = get_redis_connection("default").hgetall(REDIS_KEY)
            totals = Counter({key.decode(): int(value) for key, value in raw.items()})
        else:
            totals = Counter(_memory)
        with _lock:
            totals.update(pending)
    return dict(totals)
