"""What the public may know of one nominee's standing: the one answer pages, images and badges
share, so that hidden standings cannot leak through any of them."""

from dataclasses import dataclass
from datetime import datetime

from awards.models import Nominee

from .standings import StandingsVisibility, nominee_standing, standings_visibility


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


def public_standing(nominee: Nominee, *, now: datetime) -> PublicStanding:
    award = nominee.award
    visibility = standings_visibility(award, now)
    if visibility.hidden:
        return PublicStanding(visibility)
    row = nominee_standing(nominee)
    if row is None or row.votes == 0:
        return PublicStanding(visibility, votes=0 if visibility.show_counts else None)
    result = None
    if award.results_published_at and award.results_published_at <= now:
        if row.category_rank == 1:
            result = "winner"
        elif row.category_rank <= award.finalists_per_category:
            result = "finalist"
    return PublicStanding(
        visibility,
        category_rank=row.category_rank,
        overall_rank=row.overall_rank,
        votes=row.votes if visibility.show_counts else None,
        result=result,
    )
