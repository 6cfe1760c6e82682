"""Judges score the finalists of their categories until the jury closes; every change is
audited; a conflict of interest excuses them; the blend follows the award's formula."""

from datetime import timedelta

import pytest
from django.utils import timezone

from awards.models import Criterion
from voting.jury.services import (
    JuryError,
    blended_results,
    conflict_declare,
    jury_finalists,
    jury_progress,
)
from voting.models import AuditEntry, JuryScore

pytestmark = pytest.mark.django_db


def test_the_finalists_are_each_categorys_top_by_counted_votes(jury):
    finalists = [row.nominee for row in jury_finalists(jury.award)]
    assert finalists == [jury.soren, jury.li, jury.ada, jury.chatty]
    assert jury.nobody not in finalists


def test_a_judge_scores_and_changes_their_scores_each_change_audited(jury):
    jury.score(jury.judge, jury.soren, 7, 3)
    jury.score(jury.judge, jury.soren, 9, 4)
    assert dict(
        JuryScore.objects.filter(judge=jury.judge).values_list("criterion__name", "score")
    ) == {"Expertise": 9, "Reach": 4}
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.SCORE).order_by("id")
    assert [entry.user for entry in entries] == [jury.judge, jury.judge]
    last = entries.last().detail
    assert last["before"] == {str(jury.expertise.pk): 7, str(jury.reach.pk): 3}
    assert last["after"] == {str(jury.expertise.pk): 9, str(jury.reach.pk): 4}


def test_scores_outside_the_round_or_the_scale_or_the_finalists_are_refused(jury):
    with pytest.raises(JuryError, match="closed"):
        jury.score(jury.judge, jury.soren, 7, 3, now=jury.award.jury_closes)
    with pytest.raises(JuryError, match="once voting has closed"):
        jury.score(jury.judge, jury.soren, 7, 3, now=jury.award.voting_closes - timedelta(1))
    with pytest.raises(JuryError, match="1 to 5"):
        jury.score(jury.judge, jury.soren, 7, 6)
    with pytest.raises(JuryError, match="not a finalist"):
        jury.score(jury.judge, jury.nobody, 7, 3)
    assert not JuryScore.objects.exists()


def test_a_judge_scoped_to_a_category_scores_only_its_finalists(jury):
    jury.judge.award_roles.get().categories.set([jury.apps])
    jury.score(jury.judge, jury.chatty, 5, 5)
    with pytest.raises(JuryError, match="not a finalist in your categories"):
        jury.score(jury.judge, jury.soren, 7, 3)


def test_someone_who_is_not_a_judge_of_the_award_cannot_score(jury, organizer):
    with pytest.raises(JuryError, match="Only this award's judges"):
        jury.score(organizer, jury.soren, 7, 3)


def test_a_conflict_excuses_the_judge_and_withdraws_their_scores(jury):
    jury.score(jury.judge, jury.li, 10, 5)
    conflict_declare(
        award=jury.award, judge=jury.judge, nominee=jury.li, note="My sister", now=timezone.now()
    )
    assert not JuryScore.objects.filter(judge=jury.judge, nominee=jury.li).exists()
    with pytest.raises(JuryError, match="conflict of interest"):
        jury.score(jury.judge, jury.li, 10, 5)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CONFLICT)
    assert entry.reason == "My sister" and entry.detail["nominee"] == jury.li.pk
    progress = {p.judge: p for p in jury_progress(jury.award).judges}
    assert progress[jury.judge].excused == 1


def test_progress_counts_each_judges_finalists_done_and_pending(jury):
    jury.score(jury.judge, jury.soren, 8, 4)
    progress = jury_progress(jury.award)
    judge = {p.judge: p for p in progress.judges}
    assert (judge[jury.judge].expected, judge[jury.judge].scored) == (4, 1)
    assert judge[jury.judge].pending == 3
    assert judge[jury.second].pending == 4
    assert (progress.done, progress.expected) == (1, 8)


def test_the_blend_puts_the_jurys_favourite_ahead_of_a_louder_fan_base(jury):
    for judge in (jury.judge, jury.second):
        jury.score(judge, jury.soren, 2, 1)
        jury.score(judge, jury.li, 10, 5)
        jury.score(judge, jury.ada, 5, 3)
    rows = {row.nominee_id: row for row in blended_results(jury.award)[jury.experts.pk]}
    soren, li = rows[jury.soren.pk], rows[jury.li.pk]
    assert (soren.public_rank, li.public_rank) == (1, 2)
    assert (li.jury_rank, li.blended_rank, soren.blended_rank) == (1, 1, 2)
    assert li.judges == 2


def test_a_judge_taken_off_the_jury_or_a_category_takes_their_scores_there_along(jury):
    jury.score(jury.judge, jury.li, 10, 5)
    jury.score(jury.second, jury.li, 2, 1)
    jury.score(jury.second, jury.chatty, 2, 1)
    assert {row.nominee_id: row.judges for row in blended_results(jury.award)[jury.experts.pk]}[
        jury.li.pk
    ] == 2
    jury.second.award_roles.get().categories.set([jury.apps])
    li = {row.nominee_id: row for row in blended_results(jury.award)[jury.experts.pk]}[jury.li.pk]
    assert (li.judges, li.jury_score) == (1, 1)
    jury.second.award_roles.all().delete()
    chatty = blended_results(jury.award)[jury.apps.pk][0]
    assert chatty.judges == 0


def test_a_lowered_scale_counts_an_earlier_top_score_as_the_top(jury):
    jury.score(jury.judge, jury.li, 10, 5)
    Criterion.objects.filter(pk=jury.expertise.pk).update(scale=5)
    li = {row.nominee_id: row for row in blended_results(jury.award)[jury.experts.pk]}[jury.li.pk]
    assert li.jury_score == 1


def test_the_database_refuses_a_jury_without_a_round_or_a_weight_over_100(jury):
    from django.db import IntegrityError, transaction

    from awards.models import Award

    for change in ({"jury_closes": None}, {"jury_weight_percent": 101}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Award.objects.filter(pk=jury.award.pk).update(**change)
