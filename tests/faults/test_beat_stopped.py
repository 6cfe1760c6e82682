"""The beat stopped (killed, as a crashed container) while votes arrive: the standings stand
still, since nothing else schedules the catch-up, and once a beat runs again they converge on
the raw count. Nudges after votes are pushed an hour away here, so that only the beat counts.

"A minute" by default is BEAT_STOPPED_SECONDS (10 s here: CI's time is shared); set
LAUREL_FAULT_BEAT_SECONDS=60 for the full minute."""

import os
import time

import pytest

from .harness import (
    VoteStream,
    standings_and_raw_counts,
    tally,
    wait_until,
    wait_until_standings_converge,
)

# serial: a private PostgreSQL, Redis, gunicorn and Celery, timed; alone, after the rest.
pytestmark = [pytest.mark.services, pytest.mark.serial]

BEAT_STOPPED_SECONDS = max(4.0, float(os.environ.get("LAUREL_FAULT_BEAT_SECONDS", "10")))


def test_standings_wait_while_the_beat_is_stopped_and_converge_when_it_is_back(stack):
    award = stack.seed("beat-stopped")
    stack.web(STANDINGS_NUDGE_SECONDS="3600")
    stack.worker()
    stack.beat()
    with VoteStream(stack.url, award) as stream:
        stream.wait_for(20)
        wait_until(
            lambda: standings_and_raw_counts(stack.postgres, award)[0],
            "the beat never recomputed the standings",
        )
        stack.kill("beat")
        time.sleep(2)  # a recompute the beat published just before may still be running
        still, _, _ = standings_and_raw_counts(stack.postgres, award)
        time.sleep(BEAT_STOPPED_SECONDS - 2)
        shown, raw, pending = standings_and_raw_counts(stack.postgres, award)
        assert shown == still, "something other than the beat recomputed"
        assert pending and shown != raw, "no votes arrived while the beat was stopped"
        stack.beat()
        stream.wait_for(20)

    report = tally("beat stopped", stream, stack.postgres, award)
    print(report)
    assert report.lost == 0, report.why_lost
    assert {answer.status for answer in stream.answers} == {200}
    raw = wait_until_standings_converge(stack.postgres, award)
    assert sum(raw.values()) == report.recorded == report.sent
