"""Sliding-window counters for the per-address caps and the integrity signals.

One call, `limits_hit`, checks every cap and updates every counter a vote touches: in real mode
one Redis round trip (a Lua script, atomic), otherwise a store in this process. Windows slide:
a cap of 600 an hour means at most 600 in any hour, not 600 per clock hour (which lets 1,200
through at the edge), and the keys do not contain the cap, so changing it in the admin keeps
what was already counted.

In real mode Redis is the only store: when it fails, `limits_hit` raises LimitsUnavailable and
the caller decides what is safe (voting holds the vote for re-assessment rather than count it
under looser per-process limits), and Redis is tried again after LIMITS_RETRY_SECONDS, so
requests do not each wait for a dead server's timeout. Embedded mode, one process, keeps its
counts in this process.
"""

import enum
import logging
import math
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

log = logging.getLogger(__name__)
PREFIX = "laurel:lim:"


class Kind(enum.StrEnum):
    CAP = "cap"  # events in the window; refuses the call when `value` are already there
    LOG = "log"  # events in the window, counted without a cap
    SEEN = "seen"  # how many events of a CAP/LOG key fell in the last `value` seconds (read-only)
    DISTINCT = "distinct"  # distinct members (`value`) seen in the window
    DISTINCT_PEEK = "distinct_peek"  # the same, read-only
    # DISTINCT, but the member is added only while the counts of earlier ops in the same call
    # stay within limits: `value` is "member|i:most,j:most" (op indices, from 0).
    DISTINCT_IF = "distinct_if"
    BUCKETS = "buckets"  # a long window counted in buckets of `value` seconds
    BUCKETS_PEEK = "buckets_peek"


@dataclass(frozen=True)
class Op:
    kind: Kind
    key: str
    seconds: int
    value: int | str = 0


@dataclass(frozen=True)
class Hit:
    # The CAP that refused the call (nothing was counted then), or None.
    blocked: Op | None
    # Seconds until the refusing cap lets one more through.
    retry_after: int
    # Per op, in order: the count after this call.
    counts: list[int] = field(default_factory=list)
    # Which store answered: "redis" or "local" (the fallback, or embedded mode).
    store: str = "local"


class LimitsUnavailable(Exception):
    """The shared limit store (Redis) cannot answer: no count can be trusted right now."""


def limits_hit(ops: list[Op], *, now: float | None = None) -> Hit:
    now = time.time() if now is None else now
    if not settings.REDIS_URL:
        return local_store.hit(ops, now)
    if time.monotonic() < _redis_down_until[0]:
        raise LimitsUnavailable("retrying Redis shortly")
    try:
        return _redis_hit(ops, now)
    except Exception as error:  # any Redis failure means "no shared counts"
        _redis_down_until[0] = time.monotonic() + settings.LIMITS_RETRY_SECONDS
        log.warning("Limit store unavailable: %s", error)
        raise LimitsUnavailable(str(error)) from error


_redis_down_until = [0.0]

# ARGV: now (ms), a unique id, then every op as one line "kind TAB window (ms) TAB value TAB key"
# (one argument rather than four per op: packing arguments is most of a call's cost in Python).
# The reply is one string too: "-i,retry_ms" when cap i refused, else the counts, comma-joined.
# Caps are all checked before anything is counted, so a refused call leaves no trace.
LUA = """
local now = tonumber(ARGV[1])
local uid = ARGV[2]
local ops = {}
for line in string.gmatch(ARGV[3], '[^\\n]+') do
  local kind, ms, value, key = string.match(line, '^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$')
  ops[#ops + 1] = {kind, tonumber(ms), value, key}
end
for i, op in ipairs(ops) do
  if op[1] == 'cap' then
    redis.call('ZREMRANGEBYSCORE', op[4], '-inf', now - op[2])
    if redis.call('ZCARD', op[4]) >= tonumber(op[3]) then
      local oldest = redis.call('ZRANGE', op[4], 0, 0, 'WITHSCORES')
      return -i .. ',' .. (op[2] - (now - tonumber(oldest[2])))
    end
  end
end
local out = {}
for _, op in ipairs(ops) do
  local kind, ms, value, key = op[1], op[2], op[3], op[4]
  if kind == 'cap' or kind == 'log' or kind == 'distinct' then
    local member = uid
    if kind == 'distinct' then member = value end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, ms)
    out[#out + 1] = redis.call('ZCARD', key)
  elseif kind == 'distinct_if' then
    local member, gates = string.match(value, '^([^|]*)|?(.*)$')
    local pass = true
    for i, most in string.gmatch(gates, '(%d+):(%d+)') do
      if out[tonumber(i) + 1] > tonumber(most) then pass = false end
    end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
    if pass then
      redis.call('ZADD', key, now, member)
      redis.call('PEXPIRE', key, ms)
    end
    out[#out + 1] = redis.call('ZCARD', key)
  elseif kind == 'seen' then
    out[#out + 1] = redis.call('ZCOUNT', key, '(' .. (now - tonumber(value) * 1000), '+inf')
  elseif kind == 'distinct_peek' then
    out[#out + 1] = redis.call('ZCOUNT', key, '(' .. (now - ms), '+inf')
  else
    local width = tonumber(value) * 1000
    local current = math.floor(now / width)
    if kind == 'buckets' then
      redis.call('INCR', key .. ':' .. current)
      redis.call('PEXPIRE', key .. ':' .. current, ms + width)
    end
    local total = 0
    for b = current - math.ceil(ms / width) + 1, current do
      total = total + (tonumber(redis.call('GET', key .. ':' .. b)) or 0)
    end
    out[#out + 1] = total
  end
end
return table.concat(out, ',')
"""


def _redis_hit(ops: list[Op], now: float) -> Hit:
    lines = "\n".join(f"{op.kind}\t{op.seconds * 1000}\t{op.value}\t{PREFIX}{op.key}" for op in ops)
    reply = _script()(args=[int(now * 1000), secrets.token_hex(8), lines])
    reply = reply.decode() if isinstance(reply, bytes) else str(reply)
    if reply.startswith("-"):
        refused, retry_ms = reply[1:].split(",")
        retry = max(1, math.ceil(float(retry_ms) / 1000))
        return Hit(ops[int(refused) - 1], retry, store="redis")
    return Hit(None, 0, [int(count) for count in reply.split(",")] if reply else [], store="redis")


_scripts: dict = {}


def _script():
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    script = _scripts.get(id(client))
    if script is None:
        _scripts.clear()
        script = _scripts[id(client)] = client.register_script(LUA)
    return script


class LocalStore:
    """The same windows in this process's memory, behind one lock.

    Entries are dropped only when their window has passed, never to make room: a capped address
    stays capped for its whole window.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: dict[str, list[float]] = defaultdict(list)
        self._members: dict[str, dict[str, float]] = defaultdict(dict)
        self._buckets: dict[str, dict[int, int]] = defaultdict(dict)
        self._expires: dict[str, float] = {}
        self._next_sweep = 0.0

    def hit(self, ops: list[Op], now: float) -> Hit:
        with self._lock:
            self._sweep(now)
            for op in ops:
                if op.kind is Kind.CAP:
                    events = self._window(op.key, now - op.seconds)
                    if len(events) >= int(op.value):
                        retry = op.seconds - (now - events[0])
                        return Hit(op, max(1, math.ceil(retry)))
            counts: list[int] = []
            for op in ops:
                counts.append(self._apply(op, now, counts))
            return Hit(None, 0, counts)

    def clear(self) -> None:
        with self._lock:
            for table in (self.events, self._members, self._buckets, self._expires):
                table.clear()

    def _window(self, key: str, since: float) -> list[float]:
        events = self.events[key]
        drop = next((i for i, moment in enumerate(events) if moment > since), len(events))
        del events[:drop]
        return events

    def _apply(self, op: Op, now: float, earlier: list[int]) -> int:
        self._expires[op.key] = max(self._expires.get(op.key, 0), now + op.seconds)
        match op.kind:
            case Kind.CAP | Kind.LOG:
                events = self._window(op.key, now - op.seconds)
                events.append(now)
                return len(events)
            case Kind.SEEN:
                since = now - int(op.value)
                return sum(1 for moment in self.events.get(op.key, ()) if moment > since)
            case Kind.DISTINCT | Kind.DISTINCT_PEEK | Kind.DISTINCT_IF:
                members = self._members[op.key]
                since = now - op.seconds
                for member in [m for m, moment in members.items() if moment <= since]:
                    del members[member]
                if op.kind is Kind.DISTINCT:
                    members[str(op.value)] = now
                elif op.kind is Kind.DISTINCT_IF:
                    member, _, gates = str(op.value).partition("|")
                    if all(earlier[int(i)] <= int(most) for i, most in _gates(gates)):
                        members[member] = now
                return len(members)
            case _:
                width = int(op.value)
                current = math.floor(now / width)
                buckets = self._buckets[op.key]
                if op.kind is Kind.BUCKETS:
                    buckets[current] = buckets.get(current, 0) + 1
                first = current - math.ceil(op.seconds / width) + 1
                for old in [b for b in buckets if b < first]:
                    del buckets[old]
                return sum(buckets.values())

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        for key in [key for key, until in self._expires.items() if until < now]:
            del self._expires[key]
            self.events.pop(key, None)
            self._members.pop(key, None)
            self._buckets.pop(key, None)


def _gates(gates: str) -> list[tuple[str, str]]:
    return [tuple(gate.split(":")) for gate in gates.split(",") if gate]


def distinct_if(member: str, gates: list[tuple[int, int]]) -> str:
    """The value of a DISTINCT_IF op: add `member` while op i's count is at most `most`."""
    return member + "|" + ",".join(f"{i}:{most}" for i, most in gates)


local_store = LocalStore()


def limits_reset() -> None:
    """Forget every in-process count and retry Redis at once (tests; a deploy starts fresh)."""
    local_store.clear()
    _redis_down_until[0] = 0.0
