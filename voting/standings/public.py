"""What the public may know of one nominee's standing: the one answer pages, images and badges
share, so that hidden standings cannot leak through any of them."""

from dataclasses import dataclass
from datetime import datetime

from awards.models import Award, Category, Nominee
from voting.models import PublishedResult, Standing
from voting.standings.results import published_result, results_frozen
from voting.standings.services import StandingsVisibility, nominee_standing, standings_visibility

WINNER = "winner"
FINALIST = "finalist"


@dataclass(frozen=True)
class PublicStanding:
    visibility: StandingsVisibility
    # None when the standings are hidden, or when the nominee has no votes yet: a nominee
    # nobody has voted for is not "#1" of a field of zeros.
    category_rank: int | None = None
    overall_rank: int | None = None
    # None unless counts are shown.
    votes: int | None = None
    # "winner" or "finalist" once the results are published, else None.
    result: str | None = None

    @property
    def ranked(self) -> bool:
        return self.category_rank is not None

    @property
    def no_votes_yet(self) -> bool:
        return not self.visibility.hidden and not self.ranked

    def label(self, category_name: str) -> str:
        """The short claim a share image or a link preview may make: "#2 in Experts",
        "Winner · Experts", "Finalist · Experts", or "" when there is no rank to show."""
        if self.result == WINNER:
            return f"Winner · {category_name}"
        if self.result == FINALIST:
            return f"Finalist · {category_name}"
        if self.ranked:
            return f"#{self.category_rank} in {category_name}"
        return ""


def results_published(award: Award, now: datetime) -> bool:
    return award.results_published_at is not None and award.results_published_at <= now


def result_for(category_rank: int, award: Award) -> str | None:
    """Winner or finalist by final category rank; ties share the place."""
    if category_rank == 1:
        return WINNER
    if category_rank <= award.finalists_per_category:
        return FINALIST
    return None


def public_standing(nominee: Nominee, *, now: datetime) -> PublicStanding:
    award = nominee.award
    visibility = standings_visibility(award, now)
    if visibility.hidden:
        return PublicStanding(visibility)
    if results_frozen(award, now):
        return _published_standing(nominee, visibility)
    row = nominee_standing(nominee)
    if row is None or row.votes == 0:
        return PublicStanding(visibility, votes=0 if visibility.show_counts else None)
    return PublicStanding(
        visibility,
        category_rank=row.category_rank,
        overall_rank=row.overall_rank,
        votes=row.votes if visibility.show_counts else None,
        result=result_for(row.category_rank, award) if results_published(award, now) else None,
    )


def _published_standing(nominee: Nominee, visibility: StandingsVisibility) -> PublicStanding:
    row = published_result(nominee.pk)
    if row is None:
        return PublicStanding(visibility, votes=0)
    if row.votes == 0:
        return PublicStanding(visibility, votes=0, result=row.result or None)
    return PublicStanding(
        visibility,
        category_rank=row.category_rank,
        overall_rank=row.overall_rank,
        votes=row.votes,
        result=row.result or None,
    )


@dataclass(frozen=True)
class Placing:
    nominee: Nominee
    rank: int
    votes: int
    result: str | None
    # With a jury's blend (the frozen copy of an award with a jury): the public vote's rank in
    # the category, the jury's, and the blended score out of 100; `rank` is then the blend's.
    public_rank: int | None = None
    jury_rank: int | None = None
    blended_score: object = None


@dataclass(frozen=True)
class AwardResults:
    # Ties share first place, so there may be more than one overall winner, or none at all.
    overall_winners: list[Placing]
    # Every category in display order with its finalists, winners first; empty without votes.
    categories: list[tuple[Category, list[Placing]]]


def award_results(award: Award, *, now: datetime) -> AwardResults | None:
    """The published results: None until `results_published_at` has passed."""
    if not results_published(award, now):
        return None
    if results_frozen(award, now):
        # The frozen copy with the organizers' marks.
        rows = PublishedResult.objects.filter(award=award).exclude(result="")
        return _results(award, rows, PublishedResult.objects, lambda row: row.result)
    rows = Standing.objects.filter(award=award, votes__gt=0).filter(
        category_rank__lte=award.finalists_per_category
    )
    return _results(award, rows, Standing.objects, lambda row: result_for(row.category_rank, award))


def _results(award: Award, placed, table, result) -> AwardResults:
    """Finalists by category and the overall winners from `table` (the live standings or the
    frozen copy), whose rows `placed` are the finalists."""
    by_category: dict[int, list[Placing]] = {}
    for row in placed.select_related("nominee").order_by("category_position"):
        blended = getattr(row, "blended_rank", None)
        if blended is not None:
            placing = Placing(
                row.nominee,
                blended,
                row.votes,
                result(row),
                public_rank=row.category_rank,
                jury_rank=row.jury_rank,
                blended_score=row.blended_score,
            )
        else:
            placing = Placing(row.nominee, row.category_rank, row.votes, result(row))
        by_category.setdefault(row.category_id, []).append(placing)
    for placings in by_category.values():
        placings.sort(key=lambda placing: placing.rank)  # the blend's order, where there is one
    # An overall winner is the public vote's; with a jury, results are per category only.
    winners = (
        table.select_related("nominee", "nominee__category")
        .filter(award=award, votes__gt=0, overall_rank=1)
        .order_by("overall_position")
    )
    if award.has_jury:
        winners = winners.none()
    return AwardResults(
        overall_winners=[Placing(row.nominee, 1, row.votes, WINNER) for row in winners],
        categories=[
            (category, by_category.get(category.pk, [])) for category in award.categories.all()
        ],
    )
