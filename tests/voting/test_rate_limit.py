"""The per-IP cap: generous, per award, answered with a friendly 429; Redis down never fails a vote."""

import os
import shutil
import socket
import subprocess
import time

import pytest
from django.test import Client

from awards.models import Award
from tests.factories import NomineeFactory
from voting.models import Vote

pytestmark = pytest.mark.django_db
OFFICE = "198.51.100.77"


def vote_from(nominee, remote: str = OFFICE, accept: str = "text/html"):
    # A fresh Client is a fresh browser: a new voter behind the same address.
    return Client().post(
        nominee.get_absolute_url() + "vote/", REMOTE_ADDR=remote, HTTP_ACCEPT=accept
    )


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


def test_votes_still_count_and_nothing_fails_when_redis_stops(capped, own_redis, settings):
    process, port = own_redis
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/1"
    assert [vote_from(capped).status_code for _ in range(3)] == [200, 200, 200]
    assert vote_from(capped).status_code == 429  # the cap works while Redis is up

    process.terminate()
    process.wait(timeout=10)

    started = time.monotonic()
    statuses = [vote_from(capped).status_code for _ in range(3)]
    elapsed = time.monotonic() - started
    assert statuses == [200, 200, 200]  # the cap fails open; the per-voter rule still holds
    assert Vote.objects.count() == 6
    browser = Client()
    browser.post(capped.get_absolute_url() + "vote/", REMOTE_ADDR=OFFICE)
    again = browser.post(capped.get_absolute_url() + "vote/", REMOTE_ADDR=OFFICE)
    assert again.status_code == 409
    assert Vote.objects.count() == 7
    # Not a speed target: a hang on a dead Redis would take the socket timeouts many times over.
    assert elapsed < 10
