"""The award dashboard in the admin: the vote as it happens, in a fixed number of queries."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from awards.models import Award, Category
from voting.integrity.bursts import burst_flags
from voting.jury.services import JuryProgress, jury_progress
from voting.models import AuditEntry, Standing, StandingsSnapshot, TallyDelta, Vote
from voting.standings.tasks import HEARTBEAT_KEY

log = logging.getLogger(__name__)

HOURS_SHOWN = 48
TOP_PER_CATEGORY = 5
PING_SECONDS = 1.0
HOUR = timedelta(hours=1)
# The chart's drawing box: one slot per hour, bars scaled to the busiest hour.
CHART_SLOT, CHART_HEIGHT = 10, 80


@dataclass(frozen=True)
class Health:
    # None when the part does not exist in this mode (embedded mode runs no worker, no beat).
    ok: bool | None
    summary: str


@dataclass(frozen=True)
class Hour:
    start: datetime
    counted: int
    held: int
    void: int

    @property
    def total(self) -> int:
        return self.counted + self.held + self.void


@dataclass(frozen=True)
class Dashboard:
    award: Award
    now: datetime
    hours: list[Hour]
    totals: dict[str, int]
    top: list[tuple[Category, list[Standing]]]
    snapshot: StandingsSnapshot | None
    pending_changes: int
    worker: Health
    beat: Health
    # Nominees whose new voters came in a burst in the last day: organizers review them.
    bursts: list[AuditEntry]
    # The jury round's progress, for an award with a jury.
    jury: JuryProgress | None = None

    @property
    def total_votes(self) -> int:
        return sum(self.totals.values())

    @property
    def phase(self) -> str:
        if self.now < self.award.voting_opens:
            return "scheduled"
        return "open" if self.now < self.award.voting_closes else "closed"

    @property
    def time_left(self) -> timedelta | None:
        """Until voting closes, or until it opens while it is scheduled; None once closed."""
        if self.phase == "scheduled":
            return self.award.voting_opens - self.now
        if self.phase == "open":
            return self.award.voting_closes - self.now
        return None

    @property
    def standings_age(self) -> timedelta | None:
        if self.snapshot is None or self.snapshot.computed_at is None:
            return None
        return self.now - self.snapshot.computed_at


def award_dashboard(*, award: Award, now: datetime) -> Dashboard:
    """Everything the dashboard shows: seven queries and two cache reads, whatever the size
    (five more with a jury)."""
    return Dashboard(
        award=award,
        now=now,
        hours=votes_per_hour(award=award, now=now),
        totals=_totals(award),
        top=_top(award),
        snapshot=StandingsSnapshot.objects.filter(award=award).first(),
        pending_changes=TallyDelta.objects.filter(award=award).count(),
        worker=worker_health(),
        beat=beat_health(now),
        bursts=burst_flags(award=award, now=now),
        jury=jury_progress(award) if award.has_jury else None,
    )


def votes_per_hour(*, award: Award, now: datetime, hours: int = HOURS_SHOWN) -> list[Hour]:
    """Votes by status per hour over the last `hours` hours of the voting window."""
    end = min(now, award.voting_closes)
    start = max(award.voting_opens, end - hours * HOUR).astimezone(UTC)
    start = start.replace(minute=0, second=0, microsecond=0)
    if end <= start:
        return []
    rows = (
        Vote.objects.filter(award=award, created_at__gte=start, created_at__lt=end)
        .annotate(at=TruncHour("created_at", tzinfo=UTC))
        .values("at")
        .annotate(
            counted=Count("id", filter=Q(status=Vote.Status.COUNTED)),
            held=Count("id", filter=Q(status=Vote.Status.QUARANTINED)),
            void=Count("id", filter=Q(status=Vote.Status.VOID)),
        )
    )
    found = {row["at"]: row for row in rows}
    slots, moment = [], start
    while moment < end:
        row = found.get(moment, {})
        slots.append(Hour(moment, row.get("counted", 0), row.get("held", 0), row.get("void", 0)))
        moment += HOUR
    return slots


def chart_bars(hours: list[Hour]) -> list[dict]:
    """Stacked bars for the inline SVG: counted at the bottom, held, then void on top."""
    peak = max((hour.total for hour in hours), default=0) or 1
    bars = []
    for slot, hour in enumerate(hours):
        top = CHART_HEIGHT
        parts = []
        for kind in ("counted", "held", "void"):
            height = round(getattr(hour, kind) * CHART_HEIGHT / peak, 2)
            if height:
                top -= height
                parts.append({"kind": kind, "y": round(top, 2), "height": height})
        bars.append({"x": slot * CHART_SLOT + 1, "parts": parts, "hour": hour})
    return bars


def _totals(award: Award) -> dict[str, int]:
    # From the vote_award_status_nominee index alone.
    counts = dict(
        Vote.objects.filter(award=award)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Vote.Status.values}


def _top(award: Award) -> list[tuple[Category, list[Standing]]]:
    rows = (
        Standing.objects.select_related("nominee")
        .filter(award=award, category_position__lte=TOP_PER_CATEGORY, votes__gt=0)
        .order_by("category_position")
    )
    by_category: dict[int, list[Standing]] = {}
    for row in rows:
        by_category.setdefault(row.category_id, []).append(row)
    return [(category, by_category.get(category.pk, [])) for category in award.categories.all()]


def beat_health(now: datetime) -> Health:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Health(None, "Embedded mode runs no beat: pages refresh stale standings.")
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:
        return Health(False, "The cache (Redis) did not answer, so beat's last run is unknown.")
    if beat is None:
        return Health(False, "No scheduled recompute has run yet: start exactly one beat.")
    age = max(now.timestamp() - beat, 0)
    late = age > max(settings.STANDINGS_REFRESH_SECONDS * 6, 30)
    summary = f"Last scheduled recompute {_seconds(age)} ago."
    if late:
        summary += " Beat or every worker seems to be down: standings are not refreshed."
    return Health(not late, summary)


def worker_health() -> Health:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Health(None, "Embedded mode runs tasks in the web process: no worker needed.")
    try:
        replies = ping_workers()
    except Exception as error:
        return Health(False, f"The broker did not answer ({type(error).__name__}).")
    if not replies:
        return Health(False, f"No worker answered within {PING_SECONDS:g} s.")
    return Health(True, f"{len(replies)} worker{'s' if len(replies) != 1 else ''} answered.")


def ping_workers() -> list:
    # limit=1: return at the first answer rather than waiting out the timeout.
    return current_app.control.ping(timeout=PING_SECONDS, limit=1) or []


def _seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"
