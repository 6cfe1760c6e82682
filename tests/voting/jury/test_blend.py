"""The blending formula, as the award states it: properties that hold for any votes and scores."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from voting.jury.blend import Contender, Rubric, blend_category, competition_ranks

RUBRIC = [Rubric(1, 3, 10), Rubric(2, 1, 5)]

scores = st.fixed_dictionaries({1: st.integers(1, 10), 2: st.integers(1, 5)})
contenders = st.lists(
    st.tuples(st.integers(0, 50), st.lists(scores, max_size=4)), min_size=1, max_size=8
).map(
    lambda items: [
        Contender(nominee_id=n, votes=votes, scores=tuple(given))
        for n, (votes, given) in enumerate(items, start=1)
    ]
)
weights = st.integers(0, 100)


def ranks(rows, attribute="blended_rank"):
    return {row.nominee_id: getattr(row, attribute) for row in rows}


@given(contenders)
def test_with_the_public_at_100_percent_the_ranks_are_the_public_votes_own(field):
    rows = blend_category(field, RUBRIC, jury_weight_percent=0)
    today = competition_ranks({c.nominee_id: (c.votes,) for c in field})
    assert ranks(rows) == today
    assert ranks(rows, "public_rank") == today


@given(contenders, weights, st.data())
def test_more_votes_never_lower_a_finalists_place(field, jury, data):
    who = data.draw(st.sampled_from(field))
    more = [Contender(c.nominee_id, c.votes + (1 if c is who else 0), c.scores) for c in field]
    before = ranks(blend_category(field, RUBRIC, jury_weight_percent=jury))
    after = ranks(blend_category(more, RUBRIC, jury_weight_percent=jury))
    assert after[who.nominee_id] <= before[who.nominee_id]


@given(contenders, weights, st.data())
def test_a_higher_score_from_a_judge_never_lowers_a_finalists_place(field, jury, data):
    who = data.draw(st.sampled_from([c for c in field if c.scores] or field))
    if not who.scores:
        return
    judge = data.draw(st.integers(0, len(who.scores) - 1))
    raised = dict(who.scores[judge])
    raised[1] = min(raised[1] + 1, 10)
    better = Contender(
        who.nominee_id, who.votes, (*who.scores[:judge], raised, *who.scores[judge + 1 :])
    )
    changed = [better if c is who else c for c in field]
    before = ranks(blend_category(field, RUBRIC, jury_weight_percent=jury))
    after = ranks(blend_category(changed, RUBRIC, jury_weight_percent=jury))
    assert after[who.nominee_id] <= before[who.nominee_id]


@given(contenders, weights)
def test_ranks_are_competition_ranks_of_the_blend_split_as_stated(field, jury):
    rows = blend_category(field, RUBRIC, jury_weight_percent=jury)
    for row in rows:
        above = [
            other
            for other in rows
            if (
                other.blended,
                other.jury_score if jury else 0,
                other.votes if jury < 100 else 0,
            )
            > (row.blended, row.jury_score if jury else 0, row.votes if jury < 100 else 0)
        ]
        assert row.blended_rank == 1 + len(above)
        assert 0 <= row.blended <= 1


def test_the_stated_example_public_40_jury_60():
    # Ada leads the public vote 100 to 50; Grace has the jury's top marks from both judges.
    ada = Contender(1, 100, ({1: 5, 2: 3}, {1: 5, 2: 3}))
    grace = Contender(2, 50, ({1: 10, 2: 5}, {1: 10, 2: 5}))
    rows = {
        row.nominee_id: row for row in blend_category([ada, grace], RUBRIC, jury_weight_percent=60)
    }
    # Ada: 0.4 * 1 + 0.6 * (3*5/10 + 1*3/5)/4 = 0.4 + 0.6 * 0.525 = 0.715
    assert rows[1].blended == Fraction(715, 1000)
    # Grace: 0.4 * 0.5 + 0.6 * 1 = 0.8
    assert rows[2].blended == Fraction(8, 10)
    assert (rows[2].blended_rank, rows[1].blended_rank) == (1, 2)
    assert (rows[1].public_rank, rows[2].jury_rank) == (1, 1)


def test_equal_blends_are_split_by_the_jury_then_share_the_place():
    # Same blend (0.5 * 1 + 0.5 * 0.2 = 0.6 and 0.5 * 0.4 + 0.5 * 0.8 = 0.6): the jury's favourite first.
    rubric = [Rubric(1, 1, 10)]
    loud = Contender(1, 10, ({1: 2},))
    liked = Contender(2, 4, ({1: 8},))
    twin = Contender(3, 4, ({1: 8},))
    rows = ranks(blend_category([loud, liked, twin], rubric, jury_weight_percent=50))
    assert rows == {2: 1, 3: 1, 1: 3}


def test_a_finalist_no_judge_scored_has_a_jury_score_of_0():
    rows = blend_category(
        [Contender(1, 3), Contender(2, 3, ({1: 1, 2: 1},))], RUBRIC, jury_weight_percent=50
    )
    assert {row.nominee_id: row.jury_score for row in rows}[1] == 0
