"""Publishing the results: after the close, organizers review the final standings, mark the
winners and finalists, and publish a frozen copy of them at a chosen time.

The copy (PublishedResult rows) is what the public pages read once the publish time has
passed, so a vote voided afterwards changes nothing public until an organizer re-publishes,
which the audit log records like the first publication.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from awards.lookups import catalogue_changed
from awards.models import Award, Category
from voting.models import AuditEntry, PublishedResult, Standing, Vote
from voting.standings.services import standings_recompute

WINNER = PublishedResult.Result.WINNER
FINALIST = PublishedResult.Result.FINALIST


class BlendedPlace(Protocol):
    """A finalist's place in the blend of the public vote and the jury (voting/jury/blend.py)."""

    nominee_id: int
    jury_score: object  # a Fraction, 0..1
    jury_rank: int
    blended: object  # a Fraction, 0..1
    blended_rank: int


# nominee id -> its place, for the finalists an award's jury scored; computed from the final
# standings, so it is asked for after the last recompute.
Blend = Callable[[Award], Mapping[int, BlendedPlace]]


def out_of_100(share) -> Decimal:
    """A 0..1 share, exact (a Fraction), as a score out of 100 to three decimals."""
    share = Fraction(share)
    return (Decimal(share.numerator * 100) / share.denominator).quantize(Decimal("0.001"))


class PublishError(ValueError):
    """A publication refused, with a sentence the organizer can act on."""


class StaleReviewError(PublishError):
    """The votes changed between the review and its confirmation."""


@dataclass(frozen=True)
class Marks:
    finalists: frozenset[int]
    winners: frozenset[int]

    def result(self, nominee_id: int) -> str:
        if nominee_id in self.winners:
            return WINNER
        if nominee_id in self.finalists:
            return FINALIST
        return ""


@dataclass(frozen=True)
class PublishCheck:
    """What an organizer must know before publishing: the votes as they stand, and whether
    voting has closed."""

    counted: int
    held: int
    void: int
    closed: bool
    # With a jury: whether its round is still open, and judges' finalists not yet scored.
    jury_open: bool = False
    jury_pending: int = 0

    @property
    def warnings(self) -> dict[str, str]:
        """Warning codes (kept in the audit log) and the sentences the review page shows."""
        warnings = {}
        if not self.closed:
            warnings["open"] = "Voting has not closed yet: results can be published once it has."
        if self.jury_open:
            warnings["jury_open"] = (
                "The jury round is still open: judges can still change their scores."
            )
        if self.jury_pending:
            warnings["jury_pending"] = (
                f"{self.jury_pending} judge score{'s are' if self.jury_pending != 1 else ' is'} "
                "still missing: a finalist no judge scored has a jury score of 0."
            )
        if self.held:
            warnings["held"] = (
                f"{self.held} vote{'s are' if self.held != 1 else ' is'} still held for review: "
                "held votes count for nobody unless restored in the integrity review."
            )
        if not self.counted:
            warnings["no_votes"] = (
                "This award has no counted votes: nobody would be ranked and nobody would win."
            )
        return warnings

    @property
    def seen(self) -> str:
        """The figures a confirmation was given for: a change since means reviewing again."""
        return f"{self.counted}:{self.held}:{self.void}:{self.jury_pending}"


def publish_check(award: Award, *, now: datetime, jury_pending: int = 0) -> PublishCheck:
    """Counted, held and void votes straight from the votes table (vote_award_status_nominee
    answers it from the index), as the publication will freeze them."""
    by_status = dict(
        Vote.objects.filter(award=award)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "n")
    )
    return PublishCheck(
        counted=by_status.get(Vote.Status.COUNTED, 0),
        held=by_status.get(Vote.Status.QUARANTINED, 0),
        void=by_status.get(Vote.Status.VOID, 0),
        closed=now >= award.voting_closes,
        jury_open=award.jury_open(now),
        jury_pending=jury_pending if award.has_jury else 0,
    )


def results_frozen(award: Award, now: datetime) -> bool:
    """Published, and by results_publish: the public pages read the frozen copy."""
    published = award.results_published_at is not None and award.results_published_at <= now
    return published and award.results_frozen_at is not None


def final_standings(award: Award) -> QuerySet[Standing]:
    """The live standings of the ranked nominees, in overall order, for review."""
    return (
        Standing.objects.select_related("nominee", "category")
        .filter(award=award, overall_position__isnull=False)
        .order_by("overall_position")
    )


def default_marks(
    award: Award,
    rows: Collection[Standing],
    blended: Mapping[int, BlendedPlace] | None = None,
) -> Marks:
    """The top `finalists_per_category` of each category are finalists, the first its winner;
    ties share the place. Nobody without votes places. With a jury's blend, the winner is the
    finalist first in the blend."""
    placed = [row for row in rows if row.votes > 0 and row.category_rank is not None]
    finalists = frozenset(
        row.nominee_id for row in placed if row.category_rank <= award.finalists_per_category
    )
    if blended:
        winners = frozenset(
            pk for pk in finalists if pk in blended and blended[pk].blended_rank == 1
        )
    else:
        winners = frozenset(row.nominee_id for row in placed if row.category_rank == 1)
    return Marks(finalists=finalists, winners=winners)


def published_marks(award: Award) -> Marks | None:
    """The marks of the current publication, None before the first one."""
    if award.results_frozen_at is None:
        return None
    rows = PublishedResult.objects.filter(award=award).exclude(result="")
    marks = dict(rows.values_list("nominee_id", "result"))
    return Marks(
        finalists=frozenset(pk for pk, result in marks.items() if result == FINALIST),
        winners=frozenset(pk for pk, result in marks.items() if result == WINNER),
    )


def results_publish(
    *,
    award: Award,
    by,
    at: datetime,
    finalists: Collection[int] | None = None,
    winners: Collection[int] | None = None,
    reason: str = "",
    seen: str | None = None,
    acknowledged: bool = True,
    now: datetime | None = None,
    blend: Blend | None = None,
    jury_pending: int = 0,
) -> AuditEntry:
    """Freeze the final standings with these marks, to be public from `at` on.

    Marks default to the top N per category. A winner is a finalist too. Publishing again
    replaces the copy and is logged as a re-publication; it needs a reason. `seen` is the
    PublishCheck.seen an organizer confirmed: other figures now refuse the publication, as
    do warnings not `acknowledged`. `blend`, for an award with a jury, gives the finalists'
    jury and blended places, frozen beside the public ones; winners then default to the blend's.
    """
    now = now or timezone.now()
    if now < award.voting_closes:
        raise PublishError("Results can be published once voting has closed.")
    if at < award.voting_closes:
        raise PublishError("The publication time must be after voting closed.")
    with transaction.atomic():
        # One publication at a time per award: the second waits here and then replaces the first.
        award = Award.objects.select_for_update().get(pk=award.pk)
        republish = award.results_frozen_at is not None
        if republish and not reason.strip():
            raise PublishError("Say why the results are published again: it goes in the log.")
        # Checked under the award's lock, so the audit entry records what was confirmed.
        check = publish_check(award, now=now, jury_pending=jury_pending)
        if seen is not None and seen != check.seen:
            raise StaleReviewError(
                "The votes changed since this page was shown: review the figures and confirm again."
            )
        if check.warnings and not acknowledged:
            raise PublishError("Tick “Publish despite these warnings” to publish with them.")
        # Fold in any vote voided since the last recompute, so the copy equals the votes.
        standings_recompute(award_id=award.pk, now=now)
        rows = list(final_standings(award))
        blended = dict(blend(award)) if blend and award.has_jury else {}
        marks = _marks(award, rows, finalists, winners, blended)
        previous = dict(
            PublishedResult.objects.filter(award=award).values_list("nominee_id", "votes")
        )
        PublishedResult.objects.filter(award=award).delete()
        PublishedResult.objects.bulk_create(
            [
                PublishedResult(
                    nominee_id=row.nominee_id,
                    award=award,
                    category_id=row.category_id,
                    votes=row.votes,
                    # Nobody is ranked in a field of zeros (published_unranked_without_votes).
                    category_rank=row.category_rank if row.votes else None,
                    overall_rank=row.overall_rank if row.votes else None,
                    overall_position=row.overall_position,
                    category_position=row.category_position,
                    result=marks.result(row.nominee_id),
                    **_blended_fields(blended.get(row.nominee_id)),
                )
                for row in rows
            ],
            batch_size=500,
        )
        Award.objects.filter(pk=award.pk).update(results_published_at=at, results_frozen_at=now)
        transaction.on_commit(catalogue_changed)  # update() sends no post_save to do it
        changed = sorted(
            row.nominee_id for row in rows if previous and previous.get(row.nominee_id) != row.votes
        )
        return AuditEntry.objects.create(
            award=award,
            user=by,
            action=AuditEntry.Action.REPUBLISH if republish else AuditEntry.Action.PUBLISH,
            reason=reason.strip(),
            count=sum(row.votes for row in rows),
            detail={
                "public_from": at.isoformat(),
                "winners": sorted(marks.winners),
                "finalists": sorted(marks.finalists),
                "nominees_with_changed_votes": changed,
                "held_votes": check.held,
                "warnings": sorted(check.warnings),
                "jury_weight_percent": award.jury_weight_percent,
            },
        )


def _blended_fields(place: BlendedPlace | None) -> dict:
    if place is None:
        return {}
    return {
        "jury_score": out_of_100(place.jury_score),
        "jury_rank": place.jury_rank,
        "blended_score": out_of_100(place.blended),
        "blended_rank": place.blended_rank,
    }


def _marks(
    award: Award,
    rows: list[Standing],
    finalists: Collection[int] | None,
    winners: Collection[int] | None,
    blended: Mapping[int, BlendedPlace] | None = None,
) -> Marks:
    default = default_marks(award, rows, blended)
    finalists = default.finalists if finalists is None else frozenset(finalists)
    winners = default.winners if winners is None else frozenset(winners)
    ranked = {row.nominee_id for row in rows if row.votes > 0}
    if not finalists | winners <= ranked:
        raise PublishError(
            "Only nominees of this award with counted votes can be winners or finalists."
        )
    return Marks(finalists=finalists | winners, winners=winners)


def results_list(award: Award, *, category: Category | None = None, query: str = ""):
    """The published final standings in display order, shaped like voting.standings.services'
    standings_list so that the same pages and JSON show them."""
    rows = PublishedResult.objects.select_related("nominee", "category")
    if category is None:
        rows = rows.filter(award=award).order_by("overall_position")
    else:
        rows = rows.filter(category=category).order_by("category_position")
    query = query.strip().lstrip("@")
    if query:
        rows = rows.filter(
            Q(nominee__name__icontains=query) | Q(nominee__twitter_handle__icontains=query)
        )
    return rows


def published_result(nominee_id: int) -> PublishedResult | None:
    return PublishedResult.objects.filter(nominee_id=nominee_id).first()
