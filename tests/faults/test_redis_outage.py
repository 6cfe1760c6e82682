"""Redis stopped while votes stream in: votes keep being decided, with the caps held in each
web process, and nothing answers 5xx; once Redis is back (empty, as after a crash) the worker
and the beat reconnect by themselves and the standings catch up."""

import time

import pytest

from .harness import VoteStream, tally, wait_until_standings_converge

pytestmark = pytest.mark.services

OUTAGE_SECONDS = 4


def test_votes_are_decided_while_redis_is_down_and_standings_catch_up_after(stack):
    award = stack.seed("redis-outage")
    stack.web()
    stack.worker()
    stack.beat()
    with VoteStream(stack.url, award) as stream:
        stream.wait_for(20)
        stack.redis.stop()
        during = stream.count()
        time.sleep(OUTAGE_SECONDS)
        during = stream.count() - during
        stack.redis.start()
        stream.wait_for(20)

    report = tally("Redis stopped", stream, stack.postgres, award)
    print(report, f"({during} votes answered while Redis was down)")
    assert report.lost == 0, report.why_lost
    assert during >= 5, "votes stalled while Redis was down"
    assert {answer.status for answer in stream.answers} == {200}
    assert report.recorded == report.sent
    raw = wait_until_standings_converge(stack.postgres, award)
    assert sum(raw.values()) == report.recorded
