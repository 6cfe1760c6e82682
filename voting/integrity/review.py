"""The integrity review: an award's votes in clusters an organizer can read and act on.

Every question here is a few grouped queries over one award's votes in a time range (the
(award, created_at) index), never a query per cluster: an award can hold millions of votes.
Changing statuses goes through voting.ballot.services.votes_set_status, which keeps the standings
right, and every change leaves one AuditEntry.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import batched

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import Greatest, TruncDay, TruncHour

from awards.models import Award, Nominee
from voting.integrity.assess import REASON_LABELS
from voting.integrity.holds import votes_set_status
from voting.models import AuditEntry, Vote

HOUR = timedelta(hours=1)
# (label, length); None is the whole award.
WINDOWS: dict[str, tuple[str, timedelta | None]] = {
    "1h": ("Last hour", HOUR),
    "6h": ("Last 6 hours", timedelta(hours=6)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "all": ("Whole award", None),
}
DEFAULT_WINDOW = "24h"
CLUSTERS_PER_DIMENSION = 50
# A single vote is no cluster unless something about it is suspicious.
MIN_CLUSTER_VOTES = 2
NOMINEES_PER_CLUSTER = 3
TIMELINE_NOMINEES = 8
# Longer charts count votes per day: a month of hourly bars is too fine to read.
HOURLY_TIMELINE_UP_TO = timedelta(days=7)
# A high share of votes without the browser check only means something with this many of them.
UNVERIFIED_MINIMUM = 10
# Ids per votes_set_status call, below SQLite's limit on query parameters.
STATUS_BATCH = 5000
# The largest id a database row can have (a 64-bit integer).
MAX_ID = 2**63 - 1
# Vote ids kept in an audit entry's detail for an action on selected votes.
AUDIT_IDS_MAX = 1000


class Dimension(models.TextChoices):
    ADDRESS = "address", "Address"
    NETWORK = "network", "Network"
    USER_AGENT = "user_agent", "User agent"
    NOMINEE = "nominee", "Nominee"
    HOUR = "hour", "Hour"


# What each dimension groups votes by; hours are UTC so that no hour is ambiguous or missing.
_KEYS = {
    Dimension.ADDRESS: F("ip"),
    Dimension.NETWORK: F("network"),
    Dimension.USER_AGENT: F("user_agent"),
    Dimension.NOMINEE: F("nominee_id"),
    Dimension.HOUR: TruncHour("created_at", tzinfo=UTC),
}
STATUS_ACTIONS = {
    Vote.Status.QUARANTINED: AuditEntry.Action.QUARANTINE,
    Vote.Status.VOID: AuditEntry.Action.VOID,
    Vote.Status.COUNTED: AuditEntry.Action.RESTORE,
}
ACTION_STATUSES = {action: status for status, action in STATUS_ACTIONS.items()}


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code)


def window_bounds(window: str, *, now: datetime) -> tuple[datetime | None, datetime]:
    """The (since, until) of a window ending now; since is None for the whole award."""
    length = WINDOWS[window][1]
    return (None if length is None else now - length), now


def new_voter_limit(award: Award, dimension: str) -> int | None:
    """New voters' votes a cluster may hold before they look like ballot stuffing."""
    return {
        Dimension.ADDRESS: award.new_voters_per_address,
        Dimension.NETWORK: award.new_voters_per_network,
    }.get(dimension)


@dataclass(frozen=True)
class Cluster:
    dimension: str
    # The value as the action form carries it back: the address, the nominee's id, the hour's
    # ISO timestamp.
    value: str
    label: str
    total: int
    counted: int
    held: int
    void: int
    new_voters: int
    unverified: int
    first_at: datetime
    last_at: datetime
    # Roughly the suspicious votes, in hundredths: see review_clusters.
    score: int
    new_voter_limit: int | None
    unverified_percent_limit: int
    nominees: tuple[tuple[str, int], ...] = ()  # (name, votes), most votes first
    more_nominees: int = 0
    reasons: tuple[tuple[str, str, int], ...] = ()  # (code, label, votes), most first

    @property
    def suspicious(self) -> bool:
        return self.score > 0

    @property
    def signals(self) -> list[str]:
        """Why the cluster is flagged, in words."""
        found = []
        if self.held:
            found.append(f"{self.held} held")
        if self.new_voter_limit is not None and self.new_voters > self.new_voter_limit:
            found.append(f"{self.new_voters} from new voters (limit {self.new_voter_limit})")
        if self.unverified_share_high:
            found.append(f"{self.unverified * 100 // self.total}% without the browser check")
        return found

    @property
    def unverified_share_high(self) -> bool:
        return (
            self.unverified >= UNVERIFIED_MINIMUM
            and self.unverified * 100 > self.unverified_percent_limit * self.total
        )


def _in_window(award: Award, since: datetime | None, until: datetime) -> QuerySet[Vote]:
    votes = Vote.objects.filter(award=award, created_at__lt=until)
    return votes if since is None else votes.filter(created_at__gte=since)


def _score(award: Award, dimension: str) -> Case | F:
    """Suspicious votes, in hundredths: held ones, new voters' beyond the award's limit, and
    unverified ones beyond the award's expected share of them."""
    score = F("held") * 100
    limit = new_voter_limit(award, dimension)
    if limit is not None:
        score += Greatest(F("new_voters") - Value(limit), Value(0)) * 100
    excess = F("unverified") * 100 - F("total") * award.unverified_share_percent
    return score + Case(
        When(unverified__gte=UNVERIFIED_MINIMUM, then=Greatest(excess, Value(0))),
        default=Value(0),
    )


def _value(dimension: str, key) -> str:
    if dimension == Dimension.HOUR:
        return key.astimezone(UTC).isoformat()
    return str(key)


def review_clusters(
    *, award: Award, since: datetime | None, until: datetime
) -> dict[str, list[Cluster]]:
    """The most suspicious clusters of each dimension, most suspicious first; single votes
    only when suspicious.

    Two queries per dimension whatever the number of clusters (the counts, then the nominees
    and reason codes of the clusters shown) and one for the nominees' names.
    """
    votes = _in_window(award, since, until)
    found: dict[str, list[dict]] = {}
    details: dict[str, dict] = {}
    for dimension in Dimension:
        found[dimension] = list(
            votes.annotate(key=_KEYS[dimension])
            .values("key")
            .annotate(
                total=Count("id"),
                counted=Count("id", filter=Q(status=Vote.Status.COUNTED)),
                held=Count("id", filter=Q(status=Vote.Status.QUARANTINED)),
                void=Count("id", filter=Q(status=Vote.Status.VOID)),
                new_voters=Count("id", filter=Q(new_voter=True)),
                unverified=Count("id", filter=Q(verified=False)),
                first_at=Min("created_at"),
                last_at=Max("created_at"),
            )
            .annotate(score=_score(award, dimension))
            .filter(Q(total__gte=MIN_CLUSTER_VOTES) | Q(score__gt=0))
            .order_by("-score", "-total", "key")[:CLUSTERS_PER_DIMENSION]
        )
        details[dimension] = _cluster_details(
            votes, dimension, [row["key"] for row in found[dimension]]
        )
    names = _nominee_names(found, details)
    return {
        dimension: [_cluster(award, dimension, row, details[dimension], names) for row in rows]
        for dimension, rows in found.items()
    }


def _cluster_details(votes: QuerySet[Vote], dimension: str, keys: list) -> dict:
    """Per cluster key: votes per nominee, and votes per reason code (any status)."""
    nominees: dict = defaultdict(Counter)
    reasons: dict = defaultdict(Counter)
    if not keys:
        return {"nominees": nominees, "reasons": reasons}
    rows = (
        votes.annotate(key=_KEYS[dimension])
        .filter(key__in=keys)
        .values("key", "nominee_id", "reasons")
        .annotate(n=Count("id"))
    )
    for row in rows:
        nominees[row["key"]][row["nominee_id"]] += row["n"]
        for code in row["reasons"].split():
            reasons[row["key"]][code] += row["n"]
    return {"nominees": nominees, "reasons": reasons}


def _nominee_names(found: dict[str, list[dict]], details: dict[str, dict]) -> dict[int, str]:
    ids = {row["key"] for row in found[Dimension.NOMINEE]}
    for detail in details.values():
        for counts in detail["nominees"].values():
            ids.update(counts)
    return dict(Nominee.objects.filter(pk__in=ids).values_list("id", "name"))


def _cluster(award: Award, dimension: str, row: dict, detail: dict, names: dict) -> Cluster:
    key = row["key"]
    nominees = detail["nominees"][key].most_common()
    if dimension == Dimension.NOMINEE:
        label = names.get(key, f"Nominee {key}")
    elif dimension == Dimension.HOUR:
        label = hour_label(award, key)
    else:
        label = key or "(blank)"
    return Cluster(
        dimension=dimension,
        value=_value(dimension, key),
        label=label,
        total=row["total"],
        counted=row["counted"],
        held=row["held"],
        void=row["void"],
        new_voters=row["new_voters"],
        unverified=row["unverified"],
        first_at=row["first_at"],
        last_at=row["last_at"],
        score=row["score"],
        new_voter_limit=new_voter_limit(award, dimension),
        unverified_percent_limit=award.unverified_share_percent,
        nominees=tuple(
            (names.get(pk, f"Nominee {pk}"), n) for pk, n in nominees[:NOMINEES_PER_CLUSTER]
        ),
        more_nominees=max(0, len(nominees) - NOMINEES_PER_CLUSTER),
        reasons=tuple(
            (code, reason_label(code), n) for code, n in detail["reasons"][key].most_common()
        ),
    )


def hour_label(award: Award, start: datetime) -> str:
    return f"{award.local(start):%Y-%m-%d %H:%M} {award.local(start).tzname()}"


def cluster_filter(dimension: str, value: str) -> Q:
    """The votes of one cluster; ValueError when the dimension or the value makes no sense."""
    match dimension:
        case Dimension.ADDRESS:
            return Q(ip=value)
        case Dimension.NETWORK:
            return Q(network=value)
        case Dimension.USER_AGENT:
            return Q(user_agent=value)
        case Dimension.NOMINEE:
            if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
                raise ValueError("A nominee cluster is named by the nominee's number.")
            return Q(nominee_id=int(value))
        case Dimension.HOUR:
            start = hour_start(value)
            return Q(created_at__gte=start, created_at__lt=start + HOUR)
    raise ValueError(f"There is no cluster dimension “{dimension}”.")


def hour_start(value: str) -> datetime:
    start = datetime.fromisoformat(value)  # ValueError when it is no timestamp
    if start.tzinfo is None:
        raise ValueError("An hour cluster is named by the start of an hour, with its offset.")
    try:
        start = start.astimezone(UTC)
        start + HOUR  # the hour must end within the calendar
    except OverflowError:
        raise ValueError("That hour is out of range.") from None
    if start != start.replace(minute=0, second=0, microsecond=0):
        raise ValueError("An hour cluster is named by the start of an hour, with its offset.")
    return start


def cluster_votes(
    *, award: Award, dimension: str, value: str, since: datetime | None, until: datetime
) -> QuerySet[Vote]:
    """The award's votes in one cluster within the window."""
    return _in_window(award, since, until).filter(cluster_filter(dimension, value))


def cluster_votes_to_change(
    *,
    award: Award,
    dimension: str,
    value: str,
    since: datetime | None,
    until: datetime,
    status: str,
) -> QuerySet[Vote]:
    """The cluster's votes that setting `status` would change: restoring touches held and void
    votes, voiding counted and held ones, and holding only counted ones (a voided vote stays
    void until an organizer restores it)."""
    votes = cluster_votes(award=award, dimension=dimension, value=value, since=since, until=until)
    if status == Vote.Status.QUARANTINED:
        return votes.filter(status=Vote.Status.COUNTED)
    return votes.exclude(status=status)


def cluster_set_status(
    *,
    award: Award,
    user: AbstractBaseUser | None,
    dimension: str,
    value: str,
    since: datetime | None,
    until: datetime,
    status: str,
    reason: str,
) -> AuditEntry:
    """Set the status of a cluster's votes in the window, and log it; the entry's count is the
    number of votes that changed."""
    votes = cluster_votes_to_change(
        award=award, dimension=dimension, value=value, since=since, until=until, status=status
    )
    with transaction.atomic():
        ids = list(votes.values_list("pk", flat=True))
        changed = sum(
            votes_set_status(vote_ids=list(batch), status=status)
            for batch in batched(ids, STATUS_BATCH)
        )
        return AuditEntry.objects.create(
            award=award,
            user=user,
            action=STATUS_ACTIONS[status],
            reason=reason,
            count=changed,
            detail={
                "dimension": dimension,
                "value": value,
                "since": since.isoformat() if since else None,
                "until": until.isoformat(),
            },
        )


def votes_set_status_audited(
    *, votes: QuerySet[Vote], status: str, user: AbstractBaseUser | None, reason: str
) -> int:
    """votes_set_status for votes picked by hand, with one AuditEntry per award they belong to."""
    by_award: dict[int, list[int]] = defaultdict(list)
    for pk, award_id in votes.order_by().values_list("pk", "award_id"):
        by_award[award_id].append(pk)
    total = 0
    with transaction.atomic():
        for award_id, ids in by_award.items():
            changed = sum(
                votes_set_status(vote_ids=list(batch), status=status)
                for batch in batched(ids, STATUS_BATCH)
            )
            AuditEntry.objects.create(
                award_id=award_id,
                user=user,
                action=STATUS_ACTIONS[status],
                reason=reason,
                count=changed,
                detail={"vote_ids": sorted(ids)[:AUDIT_IDS_MAX], "selected": len(ids)},
            )
            total += changed
    return total


@dataclass(frozen=True)
class Series:
    nominee_id: int
    name: str
    counted: list[int]
    held: list[int]

    @property
    def total_counted(self) -> int:
        return sum(self.counted)

    @property
    def total_held(self) -> int:
        return sum(self.held)

    @property
    def peak(self) -> int:
        return max((c + h for c, h in zip(self.counted, self.held, strict=True)), default=0)


@dataclass(frozen=True)
class Timeline:
    per: str  # "hour" or "day"
    starts: list[datetime]
    series: list[Series]


def review_timeline(
    *,
    award: Award,
    since: datetime | None,
    until: datetime,
    nominee_id: int | None = None,
    top: int = TIMELINE_NOMINEES,
) -> Timeline:
    """Counted and held votes per hour (per day for long windows) for the nominees with the
    most votes in the window, and for `nominee_id`. Three queries."""
    start = max(since or award.voting_opens, award.voting_opens)
    end = min(until, award.voting_closes)
    per = "hour" if end - start <= HOURLY_TIMELINE_UP_TO else "day"
    votes = _in_window(award, since, until)
    ids = list(
        votes.values("nominee_id")
        .annotate(n=Count("id"))
        .order_by("-n", "nominee_id")
        .values_list("nominee_id", flat=True)[:top]
    )
    if nominee_id is not None and nominee_id not in ids:
        ids.append(nominee_id)
    names = dict(Nominee.objects.filter(award=award, pk__in=ids).values_list("id", "name"))
    starts = _bucket_starts(award, start, end, per)
    index = {moment: i for i, moment in enumerate(starts)}
    counted = {pk: [0] * len(starts) for pk in names}
    held = {pk: [0] * len(starts) for pk in names}
    trunc = (
        TruncHour("created_at", tzinfo=UTC)
        if per == "hour"
        else TruncDay("created_at", tzinfo=award.zone)
    )
    rows = (
        votes.filter(nominee_id__in=names)
        .annotate(at=trunc)
        .values("nominee_id", "at")
        .annotate(
            counted=Count("id", filter=Q(status=Vote.Status.COUNTED)),
            held=Count("id", filter=Q(status=Vote.Status.QUARANTINED)),
        )
    )
    for row in rows:
        i = index.get(row["at"])
        if i is not None:
            counted[row["nominee_id"]][i] += row["counted"]
            held[row["nominee_id"]][i] += row["held"]
    series = [Series(pk, names[pk], counted[pk], held[pk]) for pk in ids if pk in names]
    return Timeline(per, starts, series)


def _bucket_starts(award: Award, start: datetime, end: datetime, per: str) -> list[datetime]:
    if end <= start:
        return []
    if per == "hour":
        moment = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        starts = []
        while moment < end:
            starts.append(moment)
            moment += HOUR
        return starts
    first, last = award.local(start).date(), award.local(end).date()
    days = (last - first).days + 1
    return [_midnight(first + timedelta(days=n), award) for n in range(days)]


def _midnight(day: date, award: Award) -> datetime:
    return datetime.combine(day, time.min, tzinfo=award.zone)
