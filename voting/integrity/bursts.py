"""A burst of new voters for one nominee: hold the cluster that made it, never the nominee.

A saboteur can send a rival more clean-looking new voters in ten minutes than the rival's pace
allows; holding every vote in the burst would hold the rival's honest fans with them. So a
burst is reviewed as a crowd: the votes that share what made the spike (a few addresses or
networks bringing several voters each, one user agent far commoner here than elsewhere in the
award, browsers that skipped the check, clicks all faster than reading) are held, the rest stay
counted, and the nominee is flagged for organizers (the dashboard, the integrity page, and an
e-mail to MANAGERS when Django's mail is set up).
"""

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_managers
from django.db.models import Count, Q

from awards.models import Award, Nominee
from voting.integrity.assess import (
    BURST_SAME_ADDRESS,
    Reason,
    agent_over_represented,
    burst_same_network,
    concentrated,
)
from voting.integrity.holds import votes_set_status
from voting.models import AuditEntry, Vote

log = logging.getLogger(__name__)
# Unverified browsers or fast clicks are the spike's only with this many votes in the window,
# and when they are at least this share of it.
FEATURE_MIN_VOTES = 10
FEATURE_MIN_SHARE = 0.5
# The most votes of one burst window looked at (ten minutes of a very loud attack).
WINDOW_MAX = 20_000


def burst_review(*, award_id: int, nominee_id: int, since: datetime, until: datetime) -> int:
    """Hold the counted votes for the nominee since `since` that share what made its burst;
    flag the nominee once per burst. Returns the votes held now. Safe to repeat."""
    award = Award.objects.get(pk=award_id)
    window = Vote.objects.filter(
        award_id=award_id, new_voter=True, created_at__gte=since, created_at__lte=until
    )
    rows = list(
        window.filter(nominee_id=nominee_id).values_list(
            "id", "ip", "network", "user_agent", "verified", "dwell_ms", "status"
        )[:WINDOW_MAX]
    )
    shared = _shared(award, nominee_id, until, window.exclude(nominee_id=nominee_id), rows)
    held_ids = [row[0] for row in rows if row[6] == Vote.Status.COUNTED and _in(shared, row)]
    changed = votes_set_status(
        vote_ids=held_ids, status=Vote.Status.QUARANTINED, reason=Reason.NOMINEE_BURST
    )
    detail = {
        "nominee": nominee_id,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "votes": len(rows),
        "networks": sorted(shared["networks"]),
        "addresses": len(shared["addresses"]),
        "user_agents": sorted(shared["user_agents"]),
        "unverified": shared["unverified"],
        "fast": shared["fast"],
    }
    if changed:
        AuditEntry.objects.create(
            award_id=award_id,
            action=AuditEntry.Action.AUTO_QUARANTINE,
            reason=f"Part of the cluster behind a burst for {_name(nominee_id)}",
            count=changed,
            detail={"reason": str(Reason.NOMINEE_BURST), **detail},
        )
    _flag(award, nominee_id, since, detail | {"held": changed})
    return changed


def _concentrated(
    award: Award, nominee_id: int, until: datetime, dimension: str, values: list[str]
) -> set[str]:
    """Those of `values` (addresses or networks) whose votes in the hour before `until` went
    mostly to the nominee: a carrier's NAT brings many voters, for many nominees."""
    if not values:
        return set()
    rows = (
        Vote.objects.filter(
            award=award,
            created_at__gt=until - timedelta(hours=1),
            created_at__lte=until,
            **{f"{dimension}__in": values},
        )
        .values_list(dimension)
        .annotate(total=Count("id"), here=Count("id", filter=Q(nominee_id=nominee_id)))
    )
    return {value for value, total, here in rows if concentrated(here, total)}


def _shared(award: Award, nominee_id: int, until: datetime, elsewhere, rows: list[tuple]) -> dict:
    """What the burst's votes share beyond what honest fans do."""
    total = len(rows) or 1
    addresses = Counter(row[1] for row in rows)
    networks = Counter(row[2] for row in rows)
    agents = Counter(row[3] for row in rows)
    fast_ms = award.min_seconds_on_page * 1000
    unverified = sum(not row[4] for row in rows)
    fast = sum(_is_fast(fast_ms, row[4], row[5]) for row in rows)
    others = elsewhere.count()
    common = [a for a, n in agents.items() if agent_over_represented(n, total, 0, others)]
    seen = dict(
        elsewhere.filter(user_agent__in=common).values_list("user_agent").annotate(Count("id"))
    )
    repeats = [a for a, n in addresses.items() if n >= BURST_SAME_ADDRESS]
    crowded = [net for net, n in networks.items() if n >= burst_same_network(net)]
    return {
        "addresses": _concentrated(award, nominee_id, until, "ip", repeats),
        "networks": _concentrated(award, nominee_id, until, "network", crowded),
        # Far commoner among this nominee's new voters than among the rest of the award's.
        "user_agents": {
            a for a in common if agent_over_represented(agents[a], total, seen.get(a, 0), others)
        },
        "unverified": unverified >= FEATURE_MIN_VOTES
        and unverified * 100 > award.unverified_share_percent * total,
        "fast": fast >= FEATURE_MIN_VOTES and fast >= FEATURE_MIN_SHARE * total,
        "fast_ms": fast_ms,
    }


def _in(shared: dict, row: tuple) -> bool:
    _id, ip, network, agent, verified, dwell_ms, _status = row
    return (
        ip in shared["addresses"]
        or network in shared["networks"]
        or agent in shared["user_agents"]
        or (shared["unverified"] and not verified)
        or (shared["fast"] and _is_fast(shared["fast_ms"], verified, dwell_ms))
    )


def _is_fast(fast_ms: int, verified: bool, dwell_ms: int | None) -> bool:
    return verified and dwell_ms is not None and dwell_ms < fast_ms


def _name(nominee_id: int) -> str:
    return Nominee.objects.filter(pk=nominee_id).values_list("name", flat=True).first() or "?"


def _flag(award: Award, nominee_id: int, since: datetime, detail: dict) -> None:
    """One flag per burst: a later review of the same burst adds holds, not flags."""
    flagged = AuditEntry.objects.filter(
        award=award,
        action=AuditEntry.Action.BURST,
        created_at__gte=since,
        detail__nominee=nominee_id,
    )
    if flagged.exists():
        return
    name = _name(nominee_id)
    AuditEntry.objects.create(
        award=award,
        action=AuditEntry.Action.BURST,
        reason=f"A burst of new voters for {name}: review it",
        count=detail["held"],
        detail=detail,
    )
    if settings.MANAGERS:
        try:
            mail_managers(
                f"{award.name}: a burst of new voters for {name}",
                f"{detail['votes']} new voters for {name} in ten minutes, far above its usual "
                f"pace. {detail['held']} votes that shared what made the burst are held for "
                "review; the rest stay counted. The award's integrity page has the details.",
                fail_silently=False,
            )
        except Exception:  # a mail server's trouble must not undo the holds
            log.warning("burst e-mail not sent", exc_info=True)


def burst_flags(*, award: Award, now: datetime) -> list[AuditEntry]:
    """The bursts flagged in the last day, newest first (the audit index on award, time)."""
    recent = AuditEntry.objects.filter(
        award=award, action=AuditEntry.Action.BURST, created_at__gte=now - timedelta(days=1)
    )
    return list(recent[:10])
