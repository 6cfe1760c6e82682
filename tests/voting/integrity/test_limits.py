"""The limit store: sliding windows that count the same in Redis and in a process, and a Redis
failure that never lifts a cap."""

import os
import time

import pytest
from django.conf import settings as django_settings

from voting.integrity import limits
from voting.integrity.limits import Kind, Op, limits_hit, local_store

T = 1_800_000_000.0  # an arbitrary moment, in seconds


@pytest.fixture(params=["local", "redis"])
def store(request, settings):
    if request.param == "redis":
        if not django_settings.REDIS_URL:
            if os.environ.get("LAUREL_REQUIRE_SERVICES"):
                pytest.fail("real mode needs Redis")
            pytest.skip("embedded mode: no Redis (the real-mode run covers it)")
    else:
        settings.REDIS_URL = None
    limits.limits_reset()
    yield request.param
    limits.limits_reset()


def hit(*ops, at=T):
    return limits_hit(list(ops), now=at)


def test_a_cap_counts_in_a_sliding_window(store):
    cap = Op(Kind.CAP, "t:cap", 3600, 3)
    assert [hit(cap, at=T + m * 60).blocked for m in (0, 50, 55)] == [None, None, None]
    refused = hit(cap, at=T + 59 * 60)
    assert refused.blocked == cap
    assert refused.retry_after == 60  # when the first one turns an hour old
    assert hit(cap, at=T + 3601).blocked is None  # the first one left the window
    assert hit(cap, at=T + 3602).blocked == cap


def test_the_retry_after_is_when_the_oldest_leaves_the_window(store):
    cap = Op(Kind.CAP, "t:retry", 600, 1)
    hit(cap, at=T)
    assert hit(cap, at=T + 100).retry_after == 500


def test_a_refused_call_counts_nothing(store):
    cap = Op(Kind.CAP, "t:refused", 3600, 1)
    seen = Op(Kind.DISTINCT, "t:refused-seen", 3600, "someone")
    hit(cap)
    assert hit(cap, seen, at=T + 1).blocked == cap
    assert hit(Op(Kind.DISTINCT_PEEK, "t:refused-seen", 3600), at=T + 2).counts == [0]


def test_distinct_members_count_once_per_window(store):
    ops = [Op(Kind.DISTINCT, "t:d", 600, member) for member in ("a", "b", "a", "c")]
    assert [hit(op, at=T + i).counts[0] for i, op in enumerate(ops)] == [1, 2, 2, 3]
    assert hit(Op(Kind.DISTINCT_PEEK, "t:d", 600), at=T + 601).counts == [2]  # "a" refreshed


def test_seen_counts_the_recent_part_of_a_log(store):
    for minute in (0, 10, 55):
        hit(Op(Kind.LOG, "t:log", 3600), at=T + minute * 60)
    assert hit(Op(Kind.SEEN, "t:log", 3600, 600), at=T + 56 * 60).counts == [1]


def test_buckets_count_a_long_window(store):
    for hour in (0, 1, 1, 23, 24):
        hit(Op(Kind.BUCKETS, "t:b", 86400, 3600), at=T + hour * 3600)
    assert hit(Op(Kind.BUCKETS_PEEK, "t:b", 86400, 3600), at=T + 24 * 3600).counts == [4]


def test_when_redis_fails_no_process_counts_on_its_own(settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    limits.limits_reset()
    cap = Op(Kind.CAP, "t:down", 3600, 4)
    with pytest.raises(limits.LimitsUnavailable):
        hit(cap)
    started = time.monotonic()
    with pytest.raises(limits.LimitsUnavailable):  # at once: Redis is retried a little later
        hit(cap, at=T + 1)
    assert time.monotonic() - started < 0.05
    assert not local_store.events
    limits.limits_reset()


def test_the_local_store_forgets_nothing_within_its_window(settings):
    settings.REDIS_URL = None
    capped = Op(Kind.CAP, "t:capped", 3600, 1)
    hit(capped)
    for i in range(2000):  # far more addresses than the database cache kept (300)
        hit(Op(Kind.CAP, f"t:other-{i}", 3600, 1), at=T + 1)
    assert hit(capped, at=T + 120).blocked == capped
    assert len(local_store.events) >= 2001
