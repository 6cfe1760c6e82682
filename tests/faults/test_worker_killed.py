"""The Celery worker killed inside a recompute while votes stream in: the recompute applies
nothing, no vote is lost, and a new worker with the beat brings the standings to the raw count
without anyone re-sending anything."""

import psycopg
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


def test_a_worker_killed_mid_recompute_loses_nothing_and_a_new_one_catches_up(stack):
    award = stack.seed("worker-killed")
    stack.web()
    stack.worker("doomed")
    stack.beat()
    first = award.nominees[0][0]
    with VoteStream(stack.url, award) as stream:
        wait_until(
            lambda: standings_and_raw_counts(stack.postgres, award)[0],
            "the worker never computed the standings",
        )
        # Hold a standing row the recompute must update, so that the worker is caught inside
        # its transaction, having drained pending changes, when it is killed.
        with psycopg.connect(stack.postgres.url) as blocker:
            blocker.execute(
                "SELECT 1 FROM voting_standing WHERE nominee_id = %s FOR UPDATE", (first,)
            )
            wait_until(
                lambda: stack.postgres.sql(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = 'laurel' "
                    "AND wait_event_type = 'Lock'"
                ),
                "the worker never reached the locked row",
            )
            before, _, _ = standings_and_raw_counts(stack.postgres, award)
            stack.kill("doomed")
            stream.wait_for(10)
        after, _, pending = standings_and_raw_counts(stack.postgres, award)
        assert after == before, "the killed recompute applied part of its work"
        assert pending, "the votes the killed worker had drained are pending again"
        stack.worker("survivor")
        stream.wait_for(20)

    report = tally("Celery worker killed", stream, stack.postgres, award)
    print(report)
    assert report.lost == 0, report.why_lost
    assert {answer.status for answer in stream.answers} == {200}
    raw = wait_until_standings_converge(stack.postgres, award)
    assert sum(raw.values()) == report.recorded == report.sent
