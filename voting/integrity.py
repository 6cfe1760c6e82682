"""The signals that decide whether a vote counts at once or is held for an organizer's review.

Honest crowds and scripts differ less in any single vote than in their numbers: an office or a
phone carrier puts many honest voters behind one address, but they vote for many nominees and
keep their cookies; a script mints a new voter for every vote and aims them all at one nominee.
So every signal counts *new* voters (a cookie minted within the last day) for one nominee from
one address or network, or for one nominee against its own usual pace. Returning voters are
never held by these counts. All counting is one call to the limit store (voting.limits).

The numbers live on the award (the admin's Integrity section); voters are never told them.
"""

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from awards.models import Award, Nominee

from .limits import Hit, Kind, Op, distinct_if, limits_hit
from .voters import Voter

HOUR = 3600
BURST_WINDOW = 600
BASELINE_WINDOW = 86400
# Caps for the wider networks, as multiples of the per-address cap: a /24 or an IPv6 /48 is a
# whole site or a slice of a carrier, never one person.
NETWORK_CAP_FACTOR = {"/24": 8, "/56": 4, "/48": 16}
# A nominee is in a burst only while it draws more than this share of the award's new voters
# (those no other signal holds) in the burst window, besides being far above its own pace.
BURST_SHARE = 0.2
# Failed token or proof-of-work checks from one address in an hour before its new voters' votes
# are held: a browser that reloads a stale page fails once or twice, a script fails in bulk.
FAILED_CHECKS_PER_HOUR = 10
# Below this many new voters for one nominee in an hour an address or network is "quiet": the
# browser check costs the base difficulty.
QUIET_ADDRESS, QUIET_NETWORK = 4, 12
# Below this many votes of any kind in ten minutes an address or network is not busy enough to
# pay more: a carrier's NAT can bring one every ten seconds, honestly.
BUSY_ADDRESS, BUSY_NETWORK = 60, 240


class Reason(enum.StrEnum):
    NEW_VOTERS_ADDRESS = "new_voters_address"
    NEW_VOTERS_NETWORK = "new_voters_network"
    UNVERIFIED_ADDRESS = "unverified_address"
    TOO_FAST = "too_fast"
    NOMINEE_BURST = "nominee_burst"
    UNVERIFIED_SHARE = "unverified_share"
    POW_INVALID = "pow_invalid"
    FAILED_CHECKS = "failed_checks"


REASON_LABELS = {
    Reason.NEW_VOTERS_ADDRESS: "Many new voters from one address for one nominee",
    Reason.NEW_VOTERS_NETWORK: "Many new voters from one network for one nominee",
    Reason.UNVERIFIED_ADDRESS: "New voters without the browser check from one address",
    Reason.TOO_FAST: "Voted faster than a person reads and clicks",
    Reason.NOMINEE_BURST: "A burst far above the nominee's usual pace",
    Reason.UNVERIFIED_SHARE: "Far more votes without the browser check than usual",
    Reason.POW_INVALID: "The browser check's answer was wrong or reused",
    Reason.FAILED_CHECKS: "Many failed token or browser checks from this address",
}


@dataclass(frozen=True)
class Trip:
    """A cluster that has just crossed its threshold: its earlier votes are held as well."""

    reason: Reason
    dimension: str  # "ip", "network" or "nominee"
    value: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class Assessment:
    reasons: tuple[Reason, ...] = ()
    trips: tuple[Trip, ...] = ()
    # Set when a per-address or per-network cap refused the vote: seconds until it may retry.
    retry_after: int | None = None

    @property
    def held(self) -> bool:
        return bool(self.reasons)


def _scope(award: Award, nominee: Nominee) -> str:
    return f"{award.pk}:{nominee.pk}"


def _caps(award: Award, voter: Voter) -> list[Op]:
    if not settings.RATELIMIT_ENABLE:
        return []
    caps = [Op(Kind.CAP, f"rate:{award.pk}:{voter.ip}", HOUR, award.ip_votes_per_hour)]
    for net in voter.wider:
        factor = NETWORK_CAP_FACTOR.get(net[net.rfind("/") :], 8)
        caps.append(Op(Kind.CAP, f"rate:{award.pk}:{net}", HOUR, award.ip_votes_per_hour * factor))
    return caps


def integrity_note_failure(*, award: Award, voter: Voter) -> Hit:
    """Count a vote refused for a missing, expired, foreign or reused token (and cap it)."""
    return limits_hit([*_caps(award, voter), Op(Kind.LOG, f"fail:{voter.ip}", HOUR)])


def integrity_assess(
    *,
    award: Award,
    nominee: Nominee,
    voter: Voter,
    verified: bool,
    pow_invalid: bool,
    dwell: timedelta,
    now: datetime,
) -> Assessment:
    """Apply the caps and count this vote in every signal; say whether and why it is held."""
    caps = _caps(award, voter)
    scope = _scope(award, nominee)
    # Per address and network: (the op counting new voters there, why, cluster, threshold).
    clusters: list[tuple[Op, Reason, str, str, int]] = []
    ops = [*caps, Op(Kind.SEEN, f"fail:{voter.ip}", HOUR, HOUR)]
    if voter.new:
        clusters.append(
            (
                Op(Kind.DISTINCT, f"nv:{scope}:{voter.ip}", HOUR, voter.key),
                Reason.NEW_VOTERS_ADDRESS,
                "ip",
                voter.ip,
                award.new_voters_per_address,
            )
        )
        for net in voter.wider:
            # Only the widest network is stored on votes, so only it can be held afterwards.
            dimension = "network" if net == voter.network else ""
            clusters.append(
                (
                    Op(Kind.DISTINCT, f"nv:{scope}:{net}", HOUR, voter.key),
                    Reason.NEW_VOTERS_NETWORK,
                    dimension,
                    net,
                    award.new_voters_per_network,
                )
            )
        if not verified:
            clusters.append(
                (
                    Op(Kind.DISTINCT, f"nu:{scope}:{voter.ip}", HOUR, voter.key),
                    Reason.UNVERIFIED_ADDRESS,
                    "ip",
                    voter.ip,
                    award.unverified_voters_per_address,
                )
            )
            ops.append(Op(Kind.DISTINCT, f"nun:{scope}", HOUR, voter.key))
        ops += [cluster[0] for cluster in clusters]
        # The burst counts only new voters no other signal holds: a script already held by
        # address or network must not make its nominee's honest voters look like a burst.
        # (A vote too fast or with a wrong check is held whatever: it is not counted here.)
        gates = [(ops.index(cluster[0]), cluster[4]) for cluster in clusters]
        gates.append((len(caps), FAILED_CHECKS_PER_HOUR - 1))  # the address's failed checks
        clean = not pow_invalid and dwell >= timedelta(seconds=award.min_seconds_on_page)
        counted = Kind.DISTINCT_IF if clean else Kind.DISTINCT_PEEK
        ops += [
            Op(counted, f"nb:{scope}", BURST_WINDOW, distinct_if(voter.key, gates)),
            Op(counted, f"nba:{award.pk}", BURST_WINDOW, distinct_if(voter.key, gates)),
            Op(Kind.BUCKETS, f"nc:{scope}", BASELINE_WINDOW, HOUR),
            Op(Kind.DISTINCT, f"nn:{scope}", HOUR, voter.key),
        ]
    hit = limits_hit(ops, now=now.timestamp())
    if hit.blocked is not None:
        return Assessment(retry_after=hit.retry_after)
    counts = dict(zip((op.key for op in ops), hit.counts, strict=True))
    reasons: list[Reason] = [Reason.POW_INVALID] if pow_invalid else []
    if not voter.new:
        return Assessment(tuple(reasons))
    trips: list[Trip] = []
    hour_ago = now - timedelta(seconds=HOUR)
    for op, reason, dimension, value, threshold in clusters:
        count = counts[op.key]
        if count > threshold:
            reasons.append(reason)
            if count == threshold + 1 and dimension:
                trips.append(Trip(reason, dimension, value, hour_ago, now))
    burst, award_burst = counts[f"nb:{scope}"], counts[f"nba:{award.pk}"]
    day = counts[f"nc:{scope}"]
    usual = day * BURST_WINDOW / BASELINE_WINDOW
    # Far above the nominee's own pace, and a large share of the whole award's new voters: a
    # young award has no pace yet, and its most popular nominee draws a steady share.
    allowed = max(award.burst_floor, award.burst_factor * usual, BURST_SHARE * award_burst)
    if burst > allowed:
        reasons.append(Reason.NOMINEE_BURST)
        if burst - 1 <= allowed:
            since = now - timedelta(seconds=BURST_WINDOW)
            trips.append(Trip(Reason.NOMINEE_BURST, "nominee", str(nominee.pk), since, now))
    if counts[f"fail:{voter.ip}"] >= FAILED_CHECKS_PER_HOUR:
        reasons.append(Reason.FAILED_CHECKS)
    if dwell < timedelta(seconds=award.min_seconds_on_page):
        reasons.append(Reason.TOO_FAST)
    if not verified:
        unverified, new = counts[f"nun:{scope}"], counts[f"nn:{scope}"]
        if unverified > 10 and unverified * 100 > award.unverified_share_percent * new:
            reasons.append(Reason.UNVERIFIED_SHARE)
    # One reason per kind, in a stable order, for the vote's record.
    return Assessment(tuple(dict.fromkeys(reasons)), tuple(trips))


def pow_difficulty(*, award: Award, nominee: Nominee, voter: Voter, now: datetime) -> int:
    """How much work the browser check asks of this page: cheap when quiet, costly under load.

    Looks at the new voters this address and its networks brought to this nominee in the last
    hour (a script's signature: many fresh cookies for one nominee), at all their recent votes
    (only a very busy address or network costs more for that alone, since an office or a
    carrier's NAT votes busily and honestly), at failed checks, and at the nominee's pace
    against its own baseline. Work grows with the square of the busiest pressure, from the
    award's base to its maximum.
    """
    scope = _scope(award, nominee)
    ops = [
        Op(Kind.DISTINCT_PEEK, f"nv:{scope}:{voter.ip}", HOUR),
        *(Op(Kind.DISTINCT_PEEK, f"nv:{scope}:{net}", HOUR) for net in voter.wider),
        Op(Kind.SEEN, f"rate:{award.pk}:{voter.ip}", HOUR, BURST_WINDOW),
        *(Op(Kind.SEEN, f"rate:{award.pk}:{net}", HOUR, BURST_WINDOW) for net in voter.wider),
        Op(Kind.SEEN, f"fail:{voter.ip}", HOUR, HOUR),
        Op(Kind.DISTINCT_PEEK, f"nb:{scope}", BURST_WINDOW),
        Op(Kind.BUCKETS_PEEK, f"nc:{scope}", BASELINE_WINDOW, HOUR),
    ]
    counts = limits_hit(ops, now=now.timestamp()).counts
    nets = len(voter.wider)
    fresh, fresh_nets = counts[0], counts[1 : 1 + nets]
    votes, vote_nets = counts[1 + nets], counts[2 + nets : 2 + 2 * nets]
    failures, burst, day = counts[-3:]
    usual = max(award.burst_floor / 4, day * BURST_WINDOW / BASELINE_WINDOW)
    pressure = max(
        fresh / QUIET_ADDRESS,
        *(count / QUIET_NETWORK for count in fresh_nets),
        votes / BUSY_ADDRESS,
        *(count / BUSY_NETWORK for count in vote_nets),
        failures / 2,
        burst / usual,
        1.0,
    )
    return min(award.pow_max_difficulty, math.ceil(award.pow_base_difficulty * pressure**2))
