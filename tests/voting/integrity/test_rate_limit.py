"""The per-address caps: generous, per award, sliding, over networks too, answered with a friendly
429; a failing limit store never lifts them and never fails a vote."""

import os
import shutil
import socket
import subprocess
import time

import pytest
from django.test import Client
from django.utils import timezone

from awards.models import Award
from tests.ballots import READING_TIME, clock_at, solved_form, vote_like_a_browser
from tests.factories import NomineeFactory
from voting.models import Vote

pytestmark = pytest.mark.django_db
OFFICE = "198.51.100.77"
JSON = "application/json"


def vote_from(nominee, remote: str = OFFICE, accept: str = "text/html"):
    # A fresh Client is a fresh browser: a new voter behind the same address.
    return vote_like_a_browser(nominee, REMOTE_ADDR=remote, HTTP_ACCEPT=accept)


@pytest.fixture
def capped(nominee):
    Award.objects.filter(pk=nominee.award_id).update(ip_votes_per_hour=3)
    nominee.refresh_from_db()
    return nominee


def test_many_voters_behind_one_address_all_count_up_to_the_cap(capped):
    assert [vote_from(capped).status_code for _ in range(3)] == [200, 200, 200]
    assert Vote.objects.count() == 3


def test_past_the_cap_the_address_gets_a_friendly_429_and_nothing_is_recorded(capped):
    for _ in range(3):
        vote_from(capped)
    response = vote_from(capped)
    assert response.status_code == 429
    assert "Not counted: too many votes from your network right now." in response.text
    assert "offices and mobile networks" in response.text
    assert int(response["Retry-After"]) > 0
    assert Vote.objects.count() == 3


def test_the_cap_answers_javascript_with_json(capped):
    for _ in range(3):
        vote_from(capped)
    response = vote_from(capped, accept="application/json")
    assert response.status_code == 429
    assert response.json()["outcome"] == "rate_limited"


def test_the_cap_is_per_address(capped):
    for _ in range(4):
        vote_from(capped)
    assert vote_from(capped, remote="198.51.100.78").status_code == 200


def test_the_cap_is_per_ipv6_64_network(capped):
    for host in range(1, 4):
        assert vote_from(capped, remote=f"2001:db8:5:6::{host}").status_code == 200
    assert vote_from(capped, remote="2001:db8:5:6:ffff::9").status_code == 429
    assert vote_from(capped, remote="2001:db8:5:7::1").status_code == 200


def test_the_default_cap_is_generous(nominee):
    assert nominee.award.ip_votes_per_hour >= 500
    others = NomineeFactory.create_batch(5, category=nominee.category)
    statuses = {vote_from(n).status_code for n in [nominee, *others] for _ in range(10)}
    assert statuses == {200}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, so that stopping it disturbs nothing else."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("LAUREL_REQUIRE_SERVICES") or os.environ.get("LAUREL_REQUIRE_TOOLS"):
            pytest.fail("redis-server is required here")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield process, port
    process.kill()
    process.wait()


@pytest.mark.serial  # times votes against its own Redis: 13 s instead of 5 on a crowded machine
def test_when_redis_stops_votes_are_held_not_counted_looser_and_assessed_once_it_is_back(
    capped, own_redis, settings
):
    from voting.ballot.reassess import votes_reassess

    process, port = own_redis
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "IGNORE_EXCEPTIONS": True,
            },
        },
    }
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/1"
    settings.LIMITS_RETRY_SECONDS = 0.5
    Award.objects.filter(pk=capped.award_id).update(ip_votes_per_hour=8)
    assert [vote_from(capped, accept=JSON).status_code for _ in range(8)] == [200] * 8
    assert vote_from(capped, accept=JSON).status_code == 429  # the cap works while Redis is up

    process.terminate()
    process.wait(timeout=10)

    started = time.monotonic()
    during = [vote_from(capped, accept=JSON) for _ in range(4)]
    during += [vote_from(capped, remote="198.51.100.99", accept=JSON) for _ in range(3)]
    elapsed = time.monotonic() - started
    # Redis down: every vote is recorded and held ("being checked"), none refused, none lost,
    # none counted under limits that no process can share.
    assert [response.status_code for response in during] == [202] * 7
    assert all("is being checked" in response.json()["html"] for response in during)
    assert Vote.objects.filter(status="quarantined", reasons="unassessed").count() == 7
    assert votes_reassess() is None  # nothing can be assessed yet
    browser = Client()
    fields = solved_form(browser.get(capped.get_absolute_url(), REMOTE_ADDR="198.51.100.100"))
    with clock_at(timezone.now() + READING_TIME):
        again = [
            browser.post(
                capped.get_absolute_url() + "vote/",
                fields,
                REMOTE_ADDR="198.51.100.100",
                HTTP_ACCEPT=JSON,
            )
            for _ in range(2)
        ]
    assert [response.status_code for response in again] == [202, 409]  # the per-voter rule
    # Not a speed target: waiting on a dead Redis for every vote would take far longer.
    assert elapsed < 10

    process = subprocess.Popen(  # Redis is back, empty, as after a crash
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.6)  # past LIMITS_RETRY_SECONDS
        for _ in range(50):
            if votes_reassess() is not None:
                break
            time.sleep(0.1)
        # Assessed in the order cast, with what was counted before the outage forgotten by the
        # restarted Redis: all within the cap of 8 an hour, so all count.
        assert Vote.objects.filter(status="counted").count() == 8 + 8
        assert not Vote.objects.filter(reasons__contains="unassessed").exists()
    finally:
        process.kill()
        process.wait()


def test_votes_past_the_cap_during_an_outage_stay_held_once_assessed(capped, own_redis, settings):
    from voting.ballot.reassess import votes_reassess
    from voting.integrity.limits import limits_reset

    _, port = own_redis
    live = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        # As laurel/settings.py: a cache outage is a miss, not an error.
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.25,
            "SOCKET_TIMEOUT": 0.25,
            "IGNORE_EXCEPTIONS": True,
        },
    }
    settings.CACHES = {**settings.CACHES, "default": live}
    settings.REDIS_URL = live["LOCATION"]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/1"
    Award.objects.filter(pk=capped.award_id).update(ip_votes_per_hour=4)
    assert [vote_from(capped, accept=JSON).status_code for _ in range(3)] == [200] * 3
    # A network blip: Redis keeps its counts, but this process cannot reach it for a while.
    settings.CACHES = {**settings.CACHES, "default": {**live, "LOCATION": "redis://127.0.0.1:9/0"}}
    limits_reset()
    assert [vote_from(capped, accept=JSON).status_code for _ in range(3)] == [202] * 3
    settings.CACHES = {**settings.CACHES, "default": live}
    limits_reset()
    assert votes_reassess() == 3
    # One more fitted under the cap of 4 an hour; the two past it stay held, never counted.
    statuses = list(Vote.objects.order_by("created_at", "id").values_list("status", "reasons"))
    assert statuses == [("counted", "")] * 4 + [("quarantined", "over_cap")] * 2


def test_the_cap_slides_instead_of_resetting_on_the_hour(capped, voter):
    from datetime import timedelta

    from django.utils import timezone

    from tests.ballots import cast_vote
    from voting.vocabulary import Outcome, Voter

    start = timezone.now()
    # Three votes late in one clock hour, then more just after the hour turns: a fixed window
    # would let three more through; a sliding one waits until the first vote is an hour old.
    moments = [start + timedelta(minutes=m) for m in (50, 55, 59, 61, 70, 111, 116)]
    outcomes = [
        cast_vote(nominee=capped, voter=Voter(f"{i:032x}", OFFICE, "ua"), now=moment).outcome
        for i, moment in enumerate(moments)
    ]
    assert outcomes == [Outcome.COUNTED] * 3 + [Outcome.RATE_LIMITED] * 2 + [Outcome.COUNTED] * 2


def test_raising_the_cap_keeps_what_was_already_counted(capped):
    for _ in range(3):
        vote_from(capped)
    Award.objects.filter(pk=capped.award_id).update(ip_votes_per_hour=4)
    assert vote_from(capped).status_code == 200
    assert vote_from(capped).status_code == 429


def test_an_ipv6_48_cannot_multiply_the_cap_by_rotating_its_64s(capped):
    # /56 allows 4x the cap and /48 16x: 3 per /64, then the /56 stops at 12.
    statuses = [
        vote_from(capped, remote=f"2001:db8:77:{net:x}::1").status_code for net in range(16)
    ]
    assert statuses.count(200) == 12
    assert statuses[12:] == [429] * 4


def test_the_429_says_when_to_try_again(capped):
    for _ in range(3):
        vote_from(capped)
    response = vote_from(capped)
    assert 3500 <= int(response["Retry-After"]) <= 3600
    assert "try again in 60 minutes" in response.text
