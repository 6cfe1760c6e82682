"""Publishing an award with a jury: the public, jury and blended ranks side by side, the
winners from the blend, the formula stated, and the integrity report published alongside."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from voting.models import IntegrityReport, PublishedResult
from voting.organizers.publication import publication_check, publication_publish

pytestmark = pytest.mark.django_db


def publish(jury, organizer, **extra):
    extra.setdefault("at", timezone.now())
    return publication_publish(award=jury.award, by=organizer, acknowledged=True, **extra)


def test_missing_scores_and_an_open_round_are_warnings_before_publishing(jury):
    check = publication_check(jury.award, now=timezone.now())
    assert check.jury_open and check.jury_pending == 8
    assert {"jury_open", "jury_pending"} <= check.warnings.keys()
    jury.score_all()
    assert publication_check(jury.award, now=timezone.now()).jury_pending == 0


def test_the_review_shows_public_jury_and_blended_ranks_side_by_side(jury, organizer):
    jury.score_all()
    client = Client()
    client.force_login(organizer)
    text = strip_tags(client.get(f"/admin/results/{jury.award.pk}/").text)
    assert "Public rank" in text and "Jury rank" in text and "Blended rank" in text
    assert "Public 40%, jury 60%." in text


def test_published_winners_come_from_the_blend_and_the_page_states_the_formula(jury, organizer):
    jury.score_all()
    publish(jury, organizer)
    li = PublishedResult.objects.get(nominee=jury.li)
    soren = PublishedResult.objects.get(nominee=jury.soren)
    assert (li.category_rank, li.jury_rank, li.blended_rank, li.result) == (2, 1, 1, "winner")
    assert (soren.category_rank, soren.blended_rank, soren.result) == (1, 2, "finalist")
    assert li.blended_score > soren.blended_score
    assert PublishedResult.objects.get(nominee=jury.nobody).blended_rank is None

    page = strip_tags(Client().get("/sbia/").text)
    assert "Public vote 40%, jury 60%." in page
    assert "the mean of the judges' weighted criteria scores" in page.replace("&#x27;", "'")
    winner_line = page[page.index("Winner") : page.index("Winner") + 120]
    assert "李娜 Zhang" in winner_line and "public #2" in winner_line and "jury #1" in winner_line
    assert "Overall winner" not in page  # a jury blends per category only


def test_with_the_public_at_100_percent_nothing_changes(jury, organizer):
    type(jury.award).objects.filter(pk=jury.award.pk).update(
        jury_weight_percent=0, jury_closes=None
    )
    jury.award.refresh_from_db()
    publish(jury, organizer)
    soren = PublishedResult.objects.get(nominee=jury.soren)
    assert (soren.category_rank, soren.result, soren.blended_rank) == (1, "winner", None)


def test_the_integrity_report_is_published_with_the_results(jury, organizer):
    jury.score_all()
    assert Client().get("/sbia/integrity/").status_code == 404
    publish(jury, organizer, at=timezone.now() + timedelta(hours=1))
    assert IntegrityReport.objects.filter(award=jury.award).exists()
    assert Client().get("/sbia/integrity/").status_code == 404  # public with the results only
    type(jury.award).objects.filter(pk=jury.award.pk).update(
        results_published_at=timezone.now() - timedelta(minutes=1)
    )
    text = strip_tags(Client().get("/sbia/integrity/").text)
    assert "How the count was kept clean" in text
    assert "Experts" in text and "Apps" in text
