"""The signals that decide whether a vote counts at once or is held for an organizer's review.

Honest crowds and scripts differ less in any single vote than in their numbers: an office or a
phone carrier puts many honest voters behind one address, but they vote for many nominees and
keep their cookies; a script mints a new voter for every vote and aims them all at one nominee.
So the signals count distinct voters for one nominee from one address or network, or for one
nominee against its own usual pace.

Every vote is counted by them. A *new* voter is one the database holds no counted vote from (a
cookie is only a name: scripts mint and keep as many as they like); a *returning* voter, whose
vote counted at least an interval ago (voting.ballot.services.voter_is_returning), is counted
separately against RETURNING_FACTOR times the award's thresholds. Time on the page is weighed,
never a lone gate for a browser whose check passed: many fast clicks from one address or
network are a cluster, and raise the check's price there. All counting is one call to the
limit store (voting.integrity.limits); when it cannot answer, the vote is held and re-assessed later.

The numbers live on the award (the admin's Integrity section); voters are never told them.
"""

import enum
import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings

from awards.models import Award, Nominee
from voting.integrity.limits import Hit, Kind, LimitsUnavailable, Op, distinct_if, limits_hit
from voting.vocabulary import Voter

HOUR = 3600
BURST_WINDOW = 600
BASELINE_WINDOW = 86400
# Caps for the wider networks, as multiples of the per-address cap: a /24 or an IPv6 /48 is a
# whole site or a slice of a carrier, never one person.
NETWORK_CAP_FACTOR = {"/24": 8, "/56": 4, "/48": 16}
# A returning voter's thresholds, as multiples of a new voter's: gentler, never none.
RETURNING_FACTOR = 3
# The voters one address or network may bring to one nominee in a day, as a multiple of its
# hourly threshold.
DAY = 86400
DAY_FACTOR = 4
# A nominee is in a burst only while it draws more than this share of the award's new voters
# (those no other signal holds) in the burst window, besides being far above its own pace.
BURST_SHARE = 0.1
# In a burst, what the votes that made it share: new voters for the nominee within the hour
# from one address, or from one network (an IPv4 /24; an IPv6 /48, a carrier's slice, more).
BURST_SAME_ADDRESS = 2
BURST_SAME_NETWORK = {4: 3, 6: 6}
# ...when at least this share of all its votes in the hour went to the nominee.
BURST_CONCENTRATION = 0.5
# ...or one user agent, with at least this many of them, against at least this many of the
# award's other new voters in the window (see agent_over_represented).
BURST_AGENT_MIN, BURST_AGENT_BASELINE = 10, 20
# Failed token checks in an hour before a voter's votes are held: a browser that reloads a
# stale page fails once or twice. Charged to the cookie; to the address only past a bound
# generous enough for an office's stale tabs, and refused (429) only far past it.
FAILED_CHECKS_PER_VOTER = 5
FAILED_CHECKS_PER_ADDRESS = 200
FAILED_POSTS_PER_ADDRESS = 2000
# Verified voters who clicked sooner than the award's time on the page, from one address or
# network for one nominee in an hour, before such votes are held: a person may click at once,
# a crowd of them on one address is a script.
FAST_PER_ADDRESS, FAST_PER_NETWORK = 3, 8
# Below this many new voters for one nominee in an hour an address or network is "quiet": the
# browser check costs the base difficulty.
QUIET_ADDRESS, QUIET_NETWORK = 4, 12
# Below this many votes of any kind in ten minutes an address or network is not busy enough to
# pay more: a carrier's NAT can bring one every ten seconds, honestly.
BUSY_ADDRESS, BUSY_NETWORK = 60, 240


class Reason(enum.StrEnum):
    NEW_VOTERS_ADDRESS = "new_voters_address"
    NEW_VOTERS_NETWORK = "new_voters_network"
    RETURNING_ADDRESS = "returning_address"
    RETURNING_NETWORK = "returning_network"
    UNVERIFIED_ADDRESS = "unverified_address"
    TOO_FAST = "too_fast"
    FAST_CLUSTER = "fast_cluster"
    NOMINEE_BURST = "nominee_burst"
    UNVERIFIED_SHARE = "unverified_share"
    POW_INVALID = "pow_invalid"
    FAILED_CHECKS = "failed_checks"
    # The limit store was down: held until it is back and the vote has been assessed.
    UNASSESSED = "unassessed"
    # Re-assessed after an outage, the vote was past an address's hourly cap.
    OVER_CAP = "over_cap"


REASON_LABELS = {
    Reason.NEW_VOTERS_ADDRESS: "Many new voters from one address for one nominee",
    Reason.NEW_VOTERS_NETWORK: "Many new voters from one network for one nominee",
    Reason.RETURNING_ADDRESS: "Very many returning voters from one address for one nominee",
    Reason.RETURNING_NETWORK: "Very many returning voters from one network for one nominee",
    Reason.UNVERIFIED_ADDRESS: "Voters without the browser check from one address",
    Reason.TOO_FAST: "No browser check, and voted faster than a person reads and clicks",
    Reason.FAST_CLUSTER: "Many voters clicking at once after the page loaded, from one place",
    Reason.NOMINEE_BURST: "Part of the cluster behind a burst for one nominee",
    Reason.UNVERIFIED_SHARE: "Far more votes without the browser check than usual",
    Reason.POW_INVALID: "The browser check's answer was wrong or reused",
    Reason.FAILED_CHECKS: "Many failed token checks from this browser or address",
    Reason.UNASSESSED: "Waiting for the limit store (Redis) to be assessed",
    Reason.OVER_CAP: "Over an address's hourly cap (assessed after an outage)",
}


@dataclass(frozen=True)
class Trip:
    """A cluster that has just crossed its threshold: its earlier votes are held as well."""

    reason: Reason
    dimension: str  # "ip", "network" or "nominee"
    value: str
    since: datetime
    until: datetime
    # The cluster's voters were returning ones (new ones otherwise).
    returning: bool = False


@dataclass(frozen=True)
class Assessment:
    reasons: tuple[Reason, ...] = ()
    trips: tuple[Trip, ...] = ()
    # Set when a per-address or per-network cap refused the vote: seconds until it may retry.
    retry_after: int | None = None
    # The nominee's new voters are in a burst: its cluster is reviewed (voting.integrity.bursts).
    burst: bool = False
    # Whether a burst review should run now: at the trip, then every BURST_REVIEW_EVERY.
    burst_review: bool = False

    @property
    def held(self) -> bool:
        return bool(self.reasons)


# A burst's cluster is reviewed again after this many more new voters, while it lasts.
BURST_REVIEW_EVERY = 20


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


def burst_same_network(network: str) -> int:
    return BURST_SAME_NETWORK[6 if ":" in network else 4]


def integrity_note_failure(*, voter: Voter) -> Hit | None:
    """Count a vote refused for a missing, expired, foreign or reused token against the cookie,
    and the address (refused only far past a generous bound); None if nothing can count now."""
    ops = [Op(Kind.LOG, f"failv:{voter.key}", HOUR)]
    if settings.RATELIMIT_ENABLE:
        ops.insert(0, Op(Kind.CAP, f"failcap:{voter.ip}", HOUR, FAILED_POSTS_PER_ADDRESS))
    ops.append(Op(Kind.LOG, f"fail:{voter.ip}", HOUR))
    try:
        return limits_hit(ops)
    except LimitsUnavailable:
        return None


def integrity_assess(
    *,
    award: Award,
    nominee: Nominee,
    voter: Voter,
    returning: bool,
    verified: bool,
    pow_invalid: bool,
    fast: bool,
    now: datetime,
) -> Assessment:
    """Apply the caps and count this vote in every signal; say whether and why it is held.

    `fast`: the vote came sooner after the page than a person usually reads and clicks (a
    confirm step's click excepted). Without the browser check that alone holds it; with the
    check it only joins the address's and network's count of fast voters.
    """
    try:
        return _assess(award, nominee, voter, returning, verified, pow_invalid, fast, now)
    except LimitsUnavailable:
        # Never looser limits while the shared counts are out of reach: recorded, held, and
        # assessed as soon as they are back (voting.ballot.reassess). What the vote alone shows is
        # kept for then.
        alone = [Reason.UNASSESSED]
        alone += [Reason.POW_INVALID] if pow_invalid else []
        alone += [Reason.TOO_FAST] if fast and not verified else []
        return Assessment(tuple(alone))


def _assess(award, nominee, voter, returning, verified, pow_invalid, fast, now) -> Assessment:
    caps = _caps(award, voter)
    scope = _scope(award, nominee)
    prefix, factor = ("rv", RETURNING_FACTOR) if returning else ("nv", 1)
    by_address = Reason.RETURNING_ADDRESS if returning else Reason.NEW_VOTERS_ADDRESS
    by_network = Reason.RETURNING_NETWORK if returning else Reason.NEW_VOTERS_NETWORK
    # Per address and network: (the op counting voters there, why, cluster, threshold).
    clusters: list[tuple[Op, Reason, str, str, int]] = [
        (
            Op(Kind.DISTINCT, f"{prefix}:{scope}:{voter.ip}", HOUR, voter.key),
            by_address,
            "ip",
            voter.ip,
            award.new_voters_per_address * factor,
        )
    ]
    for net in voter.wider:
        # Only the widest network is stored on votes, so only it can be held afterwards.
        clusters.append(
            (
                Op(Kind.DISTINCT, f"{prefix}:{scope}:{net}", HOUR, voter.key),
                by_network,
                "network" if net == voter.network else "",
                net,
                award.new_voters_per_network * factor,
            )
        )
    # The same over a day, so that a script pacing itself under the hourly thresholds gets
    # DAY_FACTOR hours' worth a day, not 24. Further votes are held; the day's earlier ones,
    # which may be a busy office's honest morning, are left to organizers.
    clusters += [
        (
            replace(op, key=f"{prefix}d{op.key[2:]}", seconds=DAY),
            reason,
            "",
            value,
            most * DAY_FACTOR,
        )
        for op, reason, _dimension, value, most in clusters
    ]
    if not verified:
        clusters.append(
            (
                Op(Kind.DISTINCT, f"{prefix}u:{scope}:{voter.ip}", HOUR, voter.key),
                Reason.UNVERIFIED_ADDRESS,
                "ip",
                voter.ip,
                award.unverified_voters_per_address * factor,
            )
        )
    elif fast:
        for dimension, value, most in (
            ("ip", voter.ip, FAST_PER_ADDRESS),
            ("network", voter.network, FAST_PER_NETWORK),
        ):
            op = Op(Kind.DISTINCT, f"f:{scope}:{value}", HOUR, voter.key)
            clusters.append((op, Reason.FAST_CLUSTER, dimension, value, most))
    ops = [
        *caps,
        Op(Kind.SEEN, f"fail:{voter.ip}", HOUR, HOUR),
        Op(Kind.SEEN, f"failv:{voter.key}", HOUR, HOUR),
        *(cluster[0] for cluster in clusters),
    ]
    if not returning:
        if not verified:
            ops.append(Op(Kind.DISTINCT, f"nun:{scope}", HOUR, voter.key))
        # The burst counts only new voters no other signal holds: a script already held by
        # address or network must not make its nominee's honest voters look like a burst.
        # (A vote with a wrong check, or too fast without one, is held whatever.)
        gates = [(ops.index(cluster[0]), cluster[4]) for cluster in clusters]
        gates.append((len(caps), FAILED_CHECKS_PER_ADDRESS - 1))
        gates.append((len(caps) + 1, FAILED_CHECKS_PER_VOTER - 1))
        clean = not pow_invalid and (verified or not fast)
        counted = Kind.DISTINCT_IF if clean else Kind.DISTINCT_PEEK
        agent = agent_hash(voter.user_agent)
        ops += [
            Op(counted, f"nb:{scope}", BURST_WINDOW, distinct_if(voter.key, gates)),
            Op(counted, f"nba:{award.pk}", BURST_WINDOW, distinct_if(voter.key, gates)),
            Op(Kind.BUCKETS, f"nc:{scope}", BASELINE_WINDOW, HOUR),
            Op(Kind.DISTINCT, f"nn:{scope}", HOUR, voter.key),
            # The same user agent's new voters, for the nominee and for the whole award.
            Op(Kind.DISTINCT, f"nu:{scope}:{agent}", BURST_WINDOW, voter.key),
            Op(Kind.DISTINCT, f"nua:{award.pk}:{agent}", BURST_WINDOW, voter.key),
        ]
    hit = limits_hit(ops, now=now.timestamp())
    if hit.blocked is not None:
        return Assessment(retry_after=hit.retry_after)
    counts = dict(zip((op.key for op in ops), hit.counts, strict=True))
    reasons: list[Reason] = [Reason.POW_INVALID] if pow_invalid else []
    if fast and not verified:
        reasons.append(Reason.TOO_FAST)
    trips: list[Trip] = []
    hour_ago = now - timedelta(seconds=HOUR)
    for op, reason, dimension, value, threshold in clusters:
        count = counts[op.key]
        if count > threshold:
            reasons.append(reason)
            if count == threshold + 1 and dimension:
                trips.append(Trip(reason, dimension, value, hour_ago, now, returning))
    if (
        counts[f"fail:{voter.ip}"] >= FAILED_CHECKS_PER_ADDRESS
        or counts[f"failv:{voter.key}"] >= FAILED_CHECKS_PER_VOTER
    ):
        reasons.append(Reason.FAILED_CHECKS)
    burst = review = False
    if not returning:
        burst, review = _burst(award, scope, counts)
        if burst and _shares_the_burst(award, scope, voter, counts):
            reasons.append(Reason.NOMINEE_BURST)
        if not verified:
            unverified, new = counts[f"nun:{scope}"], counts[f"nn:{scope}"]
            if unverified > 10 and unverified * 100 > award.unverified_share_percent * new:
                reasons.append(Reason.UNVERIFIED_SHARE)
    # One reason per kind, in a stable order, for the vote's record.
    return Assessment(tuple(dict.fromkeys(reasons)), tuple(trips), burst=burst, burst_review=review)


def _shares_the_burst(award: Award, scope: str, voter: Voter, counts: dict[str, int]) -> bool:
    """Whether this new voter shares what makes its nominee's burst (voting.integrity.bursts reviews the
    votes before it by the same measures): its address or network brought several of the new
    voters, and mostly for this nominee (a carrier's NAT brings many, for many nominees), or
    its user agent is far commoner among them than among the award's others."""
    for value, most in (
        (voter.ip, BURST_SAME_ADDRESS),
        (voter.network, burst_same_network(voter.network)),
    ):
        here = counts.get(f"nv:{scope}:{value}", 0)
        # All the votes from there this hour (the cap's count), when the caps are on.
        everything = counts.get(f"rate:{award.pk}:{value}", here)
        if here >= most and concentrated(here, everything):
            return True
    agent = agent_hash(voter.user_agent)
    here, everywhere = counts[f"nu:{scope}:{agent}"], counts[f"nua:{award.pk}:{agent}"]
    burst, award_burst = counts[f"nb:{scope}"], counts[f"nba:{award.pk}"]
    return agent_over_represented(here, max(burst, here), everywhere - here, award_burst - burst)


def concentrated(here: int, everything: int) -> bool:
    """Whether an address's or network's votes this hour went mostly to one nominee."""
    return here >= BURST_CONCENTRATION * everything


def agent_over_represented(here: int, total: int, elsewhere: int, others: int) -> bool:
    """A user agent is part of a burst when it brings many of the nominee's new voters, at
    least half of them, at more than twice its share among the award's other new voters."""
    if here < BURST_AGENT_MIN or here < total / 2 or others < BURST_AGENT_BASELINE:
        return False  # too few of them, or too few others to compare with
    return elsewhere / max(others, 1) < here / max(total, 1) / 2


def agent_hash(user_agent: str) -> str:
    return hashlib.blake2b(user_agent.encode(), digest_size=8).hexdigest()


def _burst(award: Award, scope: str, counts: dict[str, int]) -> tuple[bool, bool]:
    """(whether the nominee's new voters are in a burst, whether to review its cluster now)."""
    burst, award_burst = counts[f"nb:{scope}"], counts[f"nba:{award.pk}"]
    usual = counts[f"nc:{scope}"] * BURST_WINDOW / BASELINE_WINDOW
    # Far above the nominee's own pace, and a large share of the whole award's new voters: a
    # young award has no pace yet, and its most popular nominee draws a steady share.
    allowed = max(award.burst_floor, award.burst_factor * usual, BURST_SHARE * award_burst)
    if burst <= allowed:
        return False, False
    past = burst - math.floor(allowed)
    return True, past == 1 or past % BURST_REVIEW_EVERY == 0


def pow_difficulty(*, award: Award, nominee: Nominee, voter: Voter, now: datetime) -> int:
    """How much work the browser check asks of this page: cheap when quiet, costly under load.

    Looks at the new voters this address and its networks brought to this nominee in the last
    hour (a script's signature: many fresh cookies for one nominee), at all their recent votes
    (only a very busy address or network costs more for that alone, since an office or a
    carrier's NAT votes busily and honestly), at fast clicks and failed checks, and at the
    nominee's pace against its own baseline. Work grows with the square of the busiest
    pressure, from the award's base to its maximum; while the limit store is down, the maximum.
    """
    scope = _scope(award, nominee)
    ops = [
        Op(Kind.DISTINCT_PEEK, f"nv:{scope}:{voter.ip}", HOUR),
        *(Op(Kind.DISTINCT_PEEK, f"nv:{scope}:{net}", HOUR) for net in voter.wider),
        Op(Kind.SEEN, f"rate:{award.pk}:{voter.ip}", HOUR, BURST_WINDOW),
        *(Op(Kind.SEEN, f"rate:{award.pk}:{net}", HOUR, BURST_WINDOW) for net in voter.wider),
        Op(Kind.DISTINCT_PEEK, f"f:{scope}:{voter.ip}", HOUR),
        Op(Kind.SEEN, f"fail:{voter.ip}", HOUR, HOUR),
        Op(Kind.SEEN, f"failv:{voter.key}", HOUR, HOUR),
        Op(Kind.DISTINCT_PEEK, f"nb:{scope}", BURST_WINDOW),
        Op(Kind.BUCKETS_PEEK, f"nc:{scope}", BASELINE_WINDOW, HOUR),
    ]
    try:
        counts = limits_hit(ops, now=now.timestamp()).counts
    except LimitsUnavailable:
        return award.pow_max_difficulty
    nets = len(voter.wider)
    fresh, fresh_nets = counts[0], counts[1 : 1 + nets]
    votes, vote_nets = counts[1 + nets], counts[2 + nets : 2 + 2 * nets]
    fast, failures, own_failures, burst, day = counts[-5:]
    usual = max(award.burst_floor / 4, day * BURST_WINDOW / BASELINE_WINDOW)
    pressure = max(
        fresh / QUIET_ADDRESS,
        *(count / QUIET_NETWORK for count in fresh_nets),
        votes / BUSY_ADDRESS,
        *(count / BUSY_NETWORK for count in vote_nets),
        fast / 2,
        failures / (FAILED_CHECKS_PER_ADDRESS / 5),
        own_failures / 2,
        burst / usual,
        1.0,
    )
    return min(award.pow_max_difficulty, math.ceil(award.pow_base_difficulty * pressure**2))
