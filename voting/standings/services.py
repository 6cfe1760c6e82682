"""Standings: recomputed in the background from counted votes, read by pages as a snapshot."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import attrgetter

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from awards.models import Award, Nominee
from voting.metrics.counters import recompute_duration_observe
from voting.models import Standing, StandingsSnapshot, TallyDelta, Vote

log = logging.getLogger(__name__)
# What a recompute may change on a Standing row.
RANKED_FIELDS = [
    "category",
    "votes",
    "category_rank",
    "overall_rank",
    "category_position",
    "overall_position",
]
_values = attrgetter("category_id", *RANKED_FIELDS[1:])


@dataclass(frozen=True)
class RecomputeResult:
    award_id: int
    folded_deltas: int
    changed_rows: int
    total_votes: int


def standings_recompute(*, award_id: int, now: datetime | None = None) -> RecomputeResult | None:
    """Fold the award's pending tally changes into its standings and re-rank it.

    Safe to run twice or concurrently: the award's snapshot row is locked for the whole
    transaction, and the pending changes are deleted in the same transaction that applies them,
    so each change is applied exactly once and a crash applies none of them.
    """
    slug = Award.objects.filter(pk=award_id).values_list("slug", flat=True).first()
    if slug is None:
        return None
    started = time.perf_counter()
    StandingsSnapshot.objects.get_or_create(award_id=award_id)
    with transaction.atomic():
        snapshot = StandingsSnapshot.objects.select_for_update().get(award_id=award_id)
        folded, changes = _drain_deltas(award_id)
        rows = _standing_rows(award_id)
        for nominee_id, amount in changes.items():
            rows[nominee_id].votes += amount
        changed = _rank(award_id, rows)
        _write_standings(changed)
        snapshot.computed_at = now or timezone.now()
        snapshot.total_votes = sum(row.votes for row in rows.values())
        snapshot.recomputes += 1
        snapshot.save()
    recompute_duration_observe(seconds=time.perf_counter() - started)
    standings_version_publish(award_slug=slug, version=snapshot.recomputes)
    return RecomputeResult(award_id, folded, len(changed), snapshot.total_votes)


def _write_standings(rows: list[Standing]) -> None:
    if not rows:
        return
    # bulk_update's CASE per row and field costs about a millisecond a row in Python, and one
    # vote can move every row below it (1.3 s for 984 nominees on SQLite).
    table = Standing._meta.db_table
    if connection.vendor != "postgresql":
        # SQLite: one prepared statement run per row, inside the caller's transaction.
        with connection.cursor() as cursor:
            cursor.executemany(
                f"""
                UPDATE {table} SET category_id = %s, votes = %s, category_rank = %s,
                    overall_rank = %s, category_position = %s, overall_position = %s
                WHERE nominee_id = %s
                """,
                [(*_values(row), row.nominee_id) for row in rows],
            )
        return
    # PostgreSQL: one statement over arrays.
    columns = [row.nominee_id for row in rows], *zip(*(_values(row) for row in rows), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS s
            SET category_id = u.category_id, votes = u.votes, category_rank = u.category_rank,
                overall_rank = u.overall_rank, category_position = u.category_position,
                overall_position = u.overall_position
            FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::integer[], %s::integer[],
                        %s::integer[], %s::integer[])
                AS u(nominee_id, category_id, votes, category_rank, overall_rank,
                     category_position, overall_position)
            WHERE s.nominee_id = u.nominee_id
            """,
            [list(column) for column in columns],
        )


def _drain_deltas(award_id: int) -> tuple[int, dict[int, int]]:
    """Delete the award's pending changes, returning their count and their sum per nominee."""
    table = TallyDelta._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: exactly the rows deleted are the rows summed, whatever commits
            # concurrently.
            cursor.execute(
                f"""
                WITH drained AS (DELETE FROM {table} WHERE award_id = %s RETURNING nominee_id, amount)
                SELECT nominee_id, SUM(amount), COUNT(*) FROM drained GROUP BY nominee_id
                """,
                [award_id],
            )
            sums = cursor.fetchall()
        else:
            # SQLite: this transaction holds the database's only write lock, so nothing can be
            # added between the read and the delete.
            cursor.execute(
                f"SELECT nominee_id, SUM(amount), COUNT(*) FROM {table} WHERE award_id = %s "
                "GROUP BY nominee_id",
                [award_id],
            )
            sums = cursor.fetchall()
            cursor.execute(f"DELETE FROM {table} WHERE award_id = %s", [award_id])
    return sum(count for _n, _s, count in sums), {
        nominee: int(total) for nominee, total, _c in sums
    }


def _standing_rows(award_id: int) -> dict[int, Standing]:
    """Every nominee's Standing row, creating the missing ones at zero votes."""
    nominees = dict(Nominee.objects.filter(award_id=award_id).values_list("id", "category_id"))
    rows = {row.nominee_id: row for row in Standing.objects.filter(award_id=award_id)}
    missing = [
        Standing(nominee_id=nominee_id, award_id=award_id, category_id=category_id)
        for nominee_id, category_id in nominees.items()
        if nominee_id not in rows
    ]
    if missing:
        Standing.objects.bulk_create(missing, batch_size=500)
        rows.update({row.nominee_id: row for row in missing})
    for nominee_id, row in rows.items():
        row.loaded_values = _values(row)
        if nominee_id in nominees:
            row.category_id = nominees[nominee_id]
    return rows


def _rank(award_id: int, rows: dict[int, Standing]) -> list[Standing]:
    """Standard competition ranking (1, 2, 2, 4); ties listed by name, then id."""
    active = dict(
        Nominee.objects.filter(award_id=award_id, is_active=True).values_list("id", "name")
    )
    ranked = sorted(
        (row for row in rows.values() if row.nominee_id in active),
        key=lambda row: (-row.votes, active[row.nominee_id].casefold(), row.nominee_id),
    )
    for row in rows.values():
        if row.nominee_id not in active:
            row.overall_rank = row.category_rank = None
            row.overall_position = row.category_position = None
    _assign(ranked, "overall_rank", "overall_position")
    # A stable sort keeps each category's members in the overall order.
    by_category = sorted(ranked, key=attrgetter("category_id"))
    for _category, members in groupby(by_category, key=attrgetter("category_id")):
        _assign(list(members), "category_rank", "category_position")
    return [row for row in rows.values() if _values(row) != row.loaded_values]


def _assign(ordered: list[Standing], rank_field: str, position_field: str) -> None:
    rank = 0
    previous = None
    for position, row in enumerate(ordered, start=1):
        if row.votes != previous:
            rank, previous = position, row.votes
        setattr(row, rank_field, rank)
        setattr(row, position_field, position)


def standings_rebuild(*, award_id: int) -> RecomputeResult | None:
    """Recount every counted vote from scratch: the repair path, and the proof of exactness."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        raise TransactionManagementError("standings_rebuild needs a transaction of its own")
    if not Award.objects.filter(pk=award_id).exists():
        return None
    StandingsSnapshot.objects.get_or_create(award_id=award_id)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One snapshot for the delete and the count: a vote committing in between is
            # neither counted here nor dropped from the pending changes.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        StandingsSnapshot.objects.select_for_update().get(award_id=award_id)
        TallyDelta.objects.filter(award_id=award_id).delete()
        counts = raw_counts(award_id=award_id)
        rows = _standing_rows(award_id)
        for nominee_id, row in rows.items():
            row.votes = counts.get(nominee_id, 0)
        Standing.objects.bulk_update(list(rows.values()), ["votes"], batch_size=500)
    return standings_recompute(award_id=award_id)


def raw_counts(*, award_id: int) -> dict[int, int]:
    """Counted votes per nominee, straight from the votes table."""
    return dict(
        Vote.objects.filter(award_id=award_id, status=Vote.Status.COUNTED)
        .values("nominee_id")
        .annotate(n=Count("id"))
        .values_list("nominee_id", "n")
    )


def awards_due_for_recompute(now: datetime | None = None) -> list[int]:
    """What the periodic task refreshes: awards open for voting (nominees come and go), awards
    with pending changes (votes voided after the close), and awards never computed."""
    now = now or timezone.now()
    pending = set(TallyDelta.objects.values_list("award_id", flat=True).distinct())
    due = Award.objects.filter(
        Q(standings_snapshot__isnull=True)
        | Q(standings_snapshot__computed_at__isnull=True)
        | Q(voting_opens__lte=now, voting_closes__gt=now)
    )
    return sorted(pending | set(due.values_list("id", flat=True)))


@dataclass(frozen=True)
class StandingsVisibility:
    show_ranks: bool
    show_counts: bool
    reason: str = ""

    @property
    def hidden(self) -> bool:
        return not self.show_ranks


def standings_visibility(award: Award, now: datetime) -> StandingsVisibility:
    """What the public may see of this award's standings right now."""
    if award.results_published_at and award.results_published_at <= now:
        return StandingsVisibility(True, True)
    if award.standings_visibility == Award.Visibility.HIDDEN:
        return StandingsVisibility(
            False, False, "Standings are hidden until the results are published."
        )
    if award.blackout_hours and now >= award.voting_closes - timedelta(hours=award.blackout_hours):
        return StandingsVisibility(
            False,
            False,
            f"Standings are hidden for the final {award.blackout_hours} hours of voting, "
            "until the results are published.",
        )
    return StandingsVisibility(True, award.standings_visibility == Award.Visibility.COUNTS)


def standings_snapshot(award: Award) -> StandingsSnapshot | None:
    return StandingsSnapshot.objects.filter(award=award, computed_at__isnull=False).first()


def standings_catch_up(*, award_slug: str) -> None:
    """Embedded mode: fold votes not yet in the standings before a page reads them.

    Embedded mode has no beat, and its nudge runs at once rather than after its countdown, so
    the votes that follow a nudge within its window would wait for the next vote. The pending
    changes are the flag: the page that finds any recomputes, in-process, so every page shows
    every counted vote. Real mode leaves this to the worker and the beat: a no-op there.
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    now = timezone.now()
    refreshed_before = now - timedelta(seconds=settings.STANDINGS_REFRESH_SECONDS)
    # What the beat would pick (awards_due_for_recompute), for this award, in one query.
    due = Award.objects.filter(slug=award_slug).filter(
        Exists(TallyDelta.objects.filter(award=OuterRef("pk")))
        | Q(standings_snapshot__computed_at__isnull=True)
        | Q(
            voting_opens__lte=now,
            voting_closes__gt=now,
            standings_snapshot__computed_at__lt=refreshed_before,
        )
    )
    award_id = due.values_list("id", flat=True).first()
    if award_id is not None:
        standings_recompute(award_id=award_id)


def version_key(award_slug: str) -> str:
    return f"pages:standings:{award_slug}"


def standings_version_publish(*, award_slug: str, version: int) -> None:
    """Tell cached pages (voting/standings/pages.py) that the award's standings changed. Never raises."""
    try:
        cache.set(version_key(award_slug), version, timeout=None)
    except Exception:
        log.warning("standings version of %s not published; cached pages expire", award_slug)


def standings_version(*, award_slug: str) -> int:
    """The award's standings version (its count of recomputes), from the cache or the database."""
    version = cache.get(version_key(award_slug))
    if version is None:
        snapshots = StandingsSnapshot.objects.filter(award__slug=award_slug)
        version = snapshots.values_list("recomputes", flat=True).first() or 0
        standings_version_publish(award_slug=award_slug, version=version)
    return version


def standings_list(award: Award, *, category=None, query: str = ""):
    """Ranked standings in display order, read from the snapshot: never counts votes."""
    rows = Standing.objects.select_related("nominee", "category")
    if category is None:
        rows = rows.filter(award=award, overall_position__isnull=False).order_by("overall_position")
    else:
        rows = rows.filter(category=category, category_position__isnull=False).order_by(
            "category_position"
        )
    query = query.strip().lstrip("@")
    if query:
        rows = rows.filter(
            Q(nominee__name__icontains=query) | Q(nominee__twitter_handle__icontains=query)
        )
    return rows


def standings_leaders(award: Award, *, overall: int = 10, per_category: int = 3):
    """The award home's overall top and each category's leaders, in two indexed queries.

    Only nominees with votes lead: on launch day nobody is "#1" of a field of zeros."""
    top = list(standings_list(award).filter(votes__gt=0)[:overall])
    leaders = (
        Standing.objects.select_related("nominee", "category")
        .filter(award=award, category_position__lte=per_category, votes__gt=0)
        .order_by("category__display_order", "category__name", "category_position")
    )
    by_category: dict = {}
    for row in leaders:
        by_category.setdefault(row.category, []).append(row)
    for row in [*top, *leaders]:
        row.nominee.award = award  # each row's link, without a query per row
    return top, by_category


def nominee_standing(nominee: Nominee) -> Standing | None:
    return Standing.objects.filter(nominee=nominee, overall_rank__isnull=False).first()
