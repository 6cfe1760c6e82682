"""The blended results: the public vote and the jury, by a formula anyone can recompute.

Within a category, for each finalist:

- **public share** = the finalist's counted votes ÷ the most counted votes of any finalist in the
  category (the leader has 1; nobody has more);
- **jury score** = the mean, over the judges who scored the finalist, of each judge's weighted
  mean of their criteria scores, each as a share of its scale (a judge who gives every
  criterion its top score gives 1); 0 when no judge scored the finalist;
- **blended** = public weight * public share + jury weight * jury score (weights in percent,
  adding up to 100), shown out of 100.

Ranks are standard competition ranks (1, 2, 2, 4). Equal blended scores are split by the jury
score if the jury has any weight, then by the counted votes if the public has any weight; those
still equal share the place. With the public at 100% the blended ranks are therefore the public
vote's own ranks, ties included.

Everything is computed with exact fractions, so that a tie is a tie and not a rounding.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Rubric:
    """One criterion as the formula sees it."""

    criterion_id: int
    weight: int
    scale: int


@dataclass(frozen=True)
class Contender:
    nominee_id: int
    votes: int
    # Each judge who scored the nominee: criterion id -> score (1..scale). Judges who declared a
    # conflict, or have not scored, are absent.
    scores: tuple[Mapping[int, int], ...] = ()


@dataclass(frozen=True)
class Blended:
    nominee_id: int
    votes: int
    judges: int
    public_share: Fraction
    jury_score: Fraction
    blended: Fraction
    public_rank: int
    jury_rank: int
    blended_rank: int


def judge_score(scores: Mapping[int, int], rubric: Sequence[Rubric]) -> Fraction:
    """One judge's score for one nominee, 0..1: criteria weighted, each as a share of its scale.
    A criterion the judge left out counts as its lowest score, 1."""
    total = sum(item.weight for item in rubric)
    if not total:
        return Fraction(0)
    # A score above the scale (the scale lowered after scoring) counts as the top score.
    weighted = sum(
        Fraction(item.weight * min(scores.get(item.criterion_id, 1), item.scale), item.scale)
        for item in rubric
    )
    return weighted / total


def jury_score(contender: Contender, rubric: Sequence[Rubric]) -> Fraction:
    if not contender.scores:
        return Fraction(0)
    each = [judge_score(scores, rubric) for scores in contender.scores]
    return sum(each, Fraction(0)) / len(each)


def competition_ranks(keys: Mapping[int, tuple]) -> dict[int, int]:
    """Standard competition ranks, highest key first: equal keys share the place."""
    ranks: dict[int, int] = {}
    rank, previous = 0, None
    for position, nominee_id in enumerate(sorted(keys, key=keys.get, reverse=True), start=1):
        if keys[nominee_id] != previous:
            rank, previous = position, keys[nominee_id]
        ranks[nominee_id] = rank
    return ranks


def blend_category(
    contenders: Iterable[Contender], rubric: Sequence[Rubric], *, jury_weight_percent: int
) -> list[Blended]:
    """One category's finalists, blended, in blended order (then by name is the caller's)."""
    if not 0 <= jury_weight_percent <= 100:
        raise ValueError("the jury's weight is a percentage, 0 to 100")
    contenders = list(contenders)
    jury_weight = Fraction(jury_weight_percent, 100)
    public_weight = 1 - jury_weight
    top = max((c.votes for c in contenders), default=0)
    shares = {c.nominee_id: Fraction(c.votes, top) if top else Fraction(0) for c in contenders}
    juries = {c.nominee_id: jury_score(c, rubric) for c in contenders}
    blended = {pk: public_weight * shares[pk] + jury_weight * juries[pk] for pk in shares}
    votes = {c.nominee_id: c.votes for c in contenders}
    tie_breaks = {
        pk: (
            blended[pk],
            juries[pk] if jury_weight else 0,
            votes[pk] if public_weight else 0,
        )
        for pk in shares
    }
    public_ranks = competition_ranks({pk: (votes[pk],) for pk in shares})
    jury_ranks = competition_ranks({pk: (juries[pk],) for pk in shares})
    blended_ranks = competition_ranks(tie_breaks)
    rows = [
        Blended(
            nominee_id=c.nominee_id,
            votes=c.votes,
            judges=len(c.scores),
            public_share=shares[c.nominee_id],
            jury_score=juries[c.nominee_id],
            blended=blended[c.nominee_id],
            public_rank=public_ranks[c.nominee_id],
            jury_rank=jury_ranks[c.nominee_id],
            blended_rank=blended_ranks[c.nominee_id],
        )
        for c in contenders
    ]
    return sorted(rows, key=lambda row: row.blended_rank)
