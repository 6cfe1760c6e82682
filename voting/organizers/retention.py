"""Retention: once an award's voting has been closed for its retention period, published or
not, the addresses and browser names on its votes are reduced to what no longer names a person.

An address becomes its network (IPv4 /24, IPv6 /48) and that network a keyed hash, so votes
from one network still group together in the integrity review and the exports; a browser
name becomes its family ("Chrome", "Safari"). The audit log keeps what it says, with each
address in it replaced by its network. Counts and statuses are untouched.
"""

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from awards.models import Award
from laurel.lib.hashing import keyed_hash
from laurel.lib.net import network_of
from voting.models import AuditEntry, Vote

# Reduced addresses start with this; no address or IPv6 network does, so a reduced vote is
# never reduced again and the task can run twice or at once.
REDUCED_PREFIX = "h:"
BATCH = 1000
# Most specific first: Edge and Opera also say "Chrome", Chrome also says "Safari".
FAMILIES = [
    ("Bot", re.compile(r"bot|crawl|spider|slurp|preview|headless", re.I)),
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/|AppleWebKit/")),
]


@dataclass(frozen=True)
class ReduceResult:
    award_id: int
    reduced: int
    done: bool


def network_hash(address: str) -> str:
    """The keyed hash of an address's network: the same network, the same hash."""
    # "unknown", or evidence from before addresses were checked, is hashed as it is.
    text = network_of(address) or address
    return REDUCED_PREFIX + keyed_hash(text, purpose="laurel.retention")[:32]


@lru_cache(maxsize=4096)  # a crowd sends few distinct browser names
def browser_family(user_agent: str) -> str:
    if not user_agent:
        return ""
    for family, pattern in FAMILIES:
        if pattern.search(user_agent):
            return family
    return "Other"


def retention_due(award: Award, now: datetime) -> bool:
    """Its own deadline: an award never published keeps no one's address longer."""
    return award.voting_closes + timedelta(days=award.retention_days) <= now


def awards_due_for_reduction(now: datetime) -> list[int]:
    awards = Award.objects.filter(voting_closes__lte=now).only(
        "id", "voting_closes", "retention_days"
    )
    return [award.pk for award in awards if retention_due(award, now)]


# Every unreduced address sorts on one side of the reduced ones ("h:" < "h;"): below them, or
# from "h;" up ("unknown"). Each range alone is an ordered range of vote_award_ip_time.
UNREDUCED = (Q(ip__lt=REDUCED_PREFIX), Q(ip__gte="h;"))


def _unreduced(award_id: int):
    return Vote.objects.filter(UNREDUCED[0] | UNREDUCED[1], award_id=award_id)


def _write(votes: list[Vote]) -> None:
    if connection.vendor != "postgresql":
        Vote.objects.bulk_update(votes, ["ip", "network", "user_agent"], batch_size=BATCH)
        return
    # One statement over arrays: bulk_update's CASE per row and field costs about a
    # millisecond a row, which would make a million votes take a quarter of an hour.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Vote._meta.db_table} AS v
            SET ip = u.ip, network = u.network, user_agent = u.user_agent
            FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])
                AS u(id, ip, network, user_agent)
            WHERE v.id = u.id
            """,
            [
                [vote.pk for vote in votes],
                [vote.ip for vote in votes],
                [vote.network for vote in votes],
                [vote.user_agent for vote in votes],
            ],
        )


def votes_reduce(
    *, award_id: int, now: datetime | None = None, max_batches: int = 1000
) -> ReduceResult:
    """Reduce the addresses and browser names of the award's votes, BATCH votes per
    transaction, if its retention period has passed. Idempotent; logs one audit entry."""
    now = now or timezone.now()
    award = Award.objects.filter(pk=award_id).first()
    if award is None or not retention_due(award, now):
        return ReduceResult(award_id, 0, done=award is None)
    reduced, batches = 0, 0
    hashes: dict[str, str] = {}
    for unreduced in UNREDUCED:
        while batches < max_batches:
            batches += 1
            changed = _reduce_batch(unreduced, award_id, hashes)
            reduced += changed
            if changed < BATCH:
                break
    done = not _unreduced(award_id).exists()
    audit_entries_reduce(award_id)
    if reduced:
        AuditEntry.objects.create(
            award=award,
            action=AuditEntry.Action.REDUCE,
            reason=f"Retention: {award.retention_days} days after voting closed.",
            count=reduced,
            detail={"complete": done},
        )
    return ReduceResult(award_id, reduced, done)


def _reduce_batch(unreduced: Q, award_id: int, hashes: dict[str, str]) -> int:
    with transaction.atomic():
        votes = Vote.objects.filter(unreduced, award_id=award_id).order_by("ip")
        batch = list(votes.only("id", "ip", "network", "user_agent")[:BATCH])
        for vote in batch:
            vote.ip = _hashed(vote.ip, hashes)
            vote.network = _hashed(vote.network, hashes) if vote.network else ""
            vote.user_agent = browser_family(vote.user_agent)
        _write(batch)
    return len(batch)


def _hashed(address: str, hashes: dict[str, str]) -> str:
    if address not in hashes:
        hashes[address] = network_hash(address)
    return hashes[address]


def audit_entries_reduce(award_id: int) -> int:
    """The award's audit entries with every address in their details replaced by its network:
    what was decided, and about which network, stays; whose address it was does not."""
    changed = []
    for entry in AuditEntry.objects.filter(award_id=award_id).only("id", "detail"):
        detail = _networks_only(entry.detail)
        if detail != entry.detail:
            entry.detail = detail
            changed.append(entry)
    AuditEntry.objects.bulk_update(changed, ["detail"], batch_size=BATCH)
    return len(changed)


def _networks_only(value):
    if isinstance(value, dict):
        return {key: _networks_only(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_networks_only(item) for item in value]
    if isinstance(value, str) and _is_address(value):
        return network_of(value) or value
    return value


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
