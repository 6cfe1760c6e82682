"""Redis stopped while votes stream in: votes keep being recorded, held for re-assessment rather
than judged on counts each web process would keep alone, and nothing answers 5xx; once Redis
is back (empty, as after a crash) the worker and the beat reconnect by themselves, the held
votes are assessed in the order cast, and the standings catch up."""

import contextlib
import json
import random
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .harness import (
    VoteStream,
    tally,
    vote_request,
    wait_until,
    wait_until_standings_converge,
)

# serial: a private PostgreSQL, Redis, gunicorn and Celery, timed; alone, after the rest.
pytestmark = [pytest.mark.services, pytest.mark.serial]

OUTAGE_SECONDS = 4


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def test_votes_are_held_while_redis_is_down_and_counted_once_assessed(stack):
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
    statuses = {answer.status for answer in stream.answers if answer.kind == "vote"}
    assert statuses == {200, 202}  # counted, and held while Redis was down
    assert report.recorded == report.sent
    held = "SELECT count(*) FROM voting_vote WHERE award_id = %s AND reasons LIKE '%%unassessed%%'"
    wait_until(
        lambda: stack.postgres.sql(held, (award.id,))[0][0] == 0,
        "the votes held while Redis was down were never assessed",
        timeout=90,
    )
    raw = wait_until_standings_converge(stack.postgres, award)
    assert sum(raw.values()) == report.recorded  # honest voters, each from an address of its own


def test_no_threshold_is_looser_while_redis_is_down_across_web_processes(stack):
    """One script, one address, new voters for one nominee: 30 of them while Redis is down,
    spread over every web process. With Redis up the award's threshold (12 new voters from one
    address for one nominee in an hour) holds the cluster; without it, exactly the same."""
    award = stack.seed("redis-outage-script")
    stack.web()  # two gunicorn workers: two processes that each saw a share of the script
    stack.worker()
    stack.beat()
    stack.redis.stop()
    rng = random.Random(7)
    nominee = award.nominees[0]
    answers = []
    for _ in range(30):
        request, _token = vote_request(stack.url, award, nominee, rng)
        request.add_header("X-Forwarded-For", "198.51.100.200")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answers.append((response.status, json.loads(response.read())["outcome"]))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.read().decode()[:200]))
    assert answers == [(202, "held")] * 30  # recorded and held, none refused, none counted
    assert len(children(stack.processes["web"].pid)) >= 2  # gunicorn's worker processes
    stack.redis.start()
    statuses = (
        "SELECT status, count(*) FROM voting_vote WHERE award_id = %s AND nominee_id = %s "
        "AND reasons NOT LIKE '%%unassessed%%' GROUP BY status"
    )

    def assessed() -> dict:
        return dict(stack.postgres.sql(statuses, (award.id, nominee[0])))

    wait_until(lambda: sum(assessed().values()) == 30, "never assessed", timeout=90)
    time.sleep(3)  # the cluster hold the twelfth-and-one vote tripped, run by the worker
    counted = assessed().get("counted", 0)
    assert counted <= 12, assessed()
