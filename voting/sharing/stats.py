"""A nominee's own votes, per day and per channel, for the private page its secret link opens
(awards/stats_links.py)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from awards.models import Nominee
from voting.models import Vote

# A vote without ?ref= came straight to the page: typed, bookmarked, or shared by hand.
DIRECT = "direct"
CHANNEL_LABELS = {
    DIRECT: "Direct",
    "twitter": "X (Twitter)",
    "x": "X (Twitter)",
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
    "whatsapp": "WhatsApp",
    "email": "Email",
    "sms": "SMS",
    "badge": "Badge",
    "qr": "QR code",
    "reminder": "Reminder",
    "share": "Share sheet",
    "copy": "Copied link",
    "message": "Message",
}


@dataclass(frozen=True)
class DayVotes:
    day: date
    counted: int


@dataclass(frozen=True)
class ChannelVotes:
    channel: str
    counted: int

    @property
    def label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)


@dataclass(frozen=True)
class NomineeStats:
    days: list[DayVotes]
    channels: list[ChannelVotes]
    counted: int
    # Quarantined votes: recorded, waiting for an organizer's review.
    held: int


def _votes_of(nominee: Nominee) -> QuerySet[Vote]:
    # The nominee's foreign-key index finds its own votes; the award's (award, created_at)
    # index would walk every other nominee's votes too.
    return Vote.objects.filter(nominee_id=nominee.pk)


def votes_per_day(*, nominee: Nominee) -> tuple[dict[date, int], int]:
    """Counted votes per calendar day in the award's time zone, and the held votes in all;
    one grouped query."""
    rows = (
        _votes_of(nominee)
        .filter(status__in=[Vote.Status.COUNTED, Vote.Status.QUARANTINED])
        .annotate(day=TruncDate("created_at", tzinfo=nominee.award.zone))
        .values("day")
        .annotate(
            counted=Count("id", filter=Q(status=Vote.Status.COUNTED)),
            held=Count("id", filter=Q(status=Vote.Status.QUARANTINED)),
        )
        .order_by("day")
    )
    per_day, held = {}, 0
    for row in rows:
        if row["counted"]:
            per_day[row["day"]] = row["counted"]
        held += row["held"]
    return per_day, held


def votes_per_channel(*, nominee: Nominee) -> list[ChannelVotes]:
    """Counted votes per share channel (?ref=), most first; one grouped query."""
    rows = (
        _votes_of(nominee)
        .filter(status=Vote.Status.COUNTED)
        .values("ref")
        .annotate(counted=Count("id"))
        .order_by()
    )
    channels = [ChannelVotes(row["ref"] or DIRECT, row["counted"]) for row in rows]
    return sorted(channels, key=lambda c: (-c.counted, c.label.casefold()))


def nominee_stats(*, nominee: Nominee, now: datetime) -> NomineeStats:
    """The nominee's counted votes per day (every day of voting so far, zeros included) and
    per channel, and how many of its votes are held for review."""
    per_day, held = votes_per_day(nominee=nominee)
    channels = votes_per_channel(nominee=nominee)
    days = [DayVotes(day, per_day.get(day, 0)) for day in _voting_days(nominee, now, per_day)]
    return NomineeStats(days, channels, sum(per_day.values()), held)


def _voting_days(nominee: Nominee, now: datetime, per_day: dict[date, int]) -> list[date]:
    award = nominee.award
    first = award.local(award.voting_opens).date()
    last = award.local(min(now, award.voting_closes - timedelta(microseconds=1))).date()
    if per_day:
        # Votes restored or cast under an earlier window still belong on the chart.
        first, last = min(first, *per_day), max(last, *per_day)
    if last < first:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
