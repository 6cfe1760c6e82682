"""PostgreSQL restarted while votes stream in: clean 503s for a bounded window, no partial
writes, and recovery without anyone acting (web, worker and beat keep running)."""

import time

import pytest

from .harness import VoteStream, tally, wait_until_standings_converge

# serial: a private PostgreSQL, Redis, gunicorn and Celery, timed; alone, after the rest.
pytestmark = [pytest.mark.services, pytest.mark.serial]

OUTAGE_SECONDS = 2
# From the restart's first moment: the outage, plus a request or two that held a dead
# connection; after it every answer must be a normal one again.
WINDOW_SECONDS = OUTAGE_SECONDS + 10


def test_a_postgres_restart_answers_clean_503s_for_a_while_then_recovers_alone(stack):
    award = stack.seed("pg-restart")
    stack.web()
    stack.worker()
    stack.beat()
    with VoteStream(stack.url, award) as stream:
        stream.wait_for(20)
        began = time.monotonic()
        stack.postgres.pg_ctl("stop", "-m", "fast")
        time.sleep(OUTAGE_SECONDS)
        stack.postgres.pg_ctl("start")
        ended = time.monotonic()
        # Recovered: votes are recorded again, on the connections the processes open themselves.
        deadline = ended + WINDOW_SECONDS
        while stream.count(status=200) < 20 + 10 or not recent_votes_all_counted(stream):
            assert time.monotonic() < deadline, f"no recovery: {stream.answers[-3:]}"
            time.sleep(0.2)
        stream.wait_for(20)

    report = tally("PostgreSQL restarted", stream, stack.postgres, award)
    print(report)
    assert report.lost == 0, report.why_lost
    unavailable = [answer for answer in stream.answers if answer.status == 503]
    assert unavailable, "the restart was never noticed: the scenario injected nothing"
    assert all(began - 1 <= answer.sent_at <= began + WINDOW_SECONDS for answer in unavailable)
    assert any(answer.kind == "page" for answer in unavailable), "no page met the outage"
    assert {answer.status for answer in stream.answers} <= {200, 503}
    raw = wait_until_standings_converge(stack.postgres, award)
    assert sum(raw.values()) == report.recorded  # every recorded vote counted, once


def recent_votes_all_counted(stream: VoteStream, last: int = 10) -> bool:
    votes = [answer for answer in stream.answers if answer.kind == "vote"][-last:]
    return len(votes) == last and all(answer.status == 200 for answer in votes)
