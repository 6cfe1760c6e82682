"""The public integrity report: figures by category and by kind of reason, never a limit or an
address; frozen with the results; each nominee sees their own."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from awards.stats_links import stats_path
from tests.ballots import votes_for
from voting.integrity.report import family_of, integrity_report, nominee_integrity
from voting.models import Vote
from voting.organizers.publication import publication_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked(jury):
    votes_for(jury.soren, 4, status=Vote.Status.QUARANTINED)
    Vote.objects.filter(status=Vote.Status.QUARANTINED).update(
        reasons="too_fast new_voters_address"
    )
    votes_for(jury.li, 3, status=Vote.Status.VOID)
    Vote.objects.filter(status=Vote.Status.VOID).update(reasons="nominee_burst")
    votes_for(jury.chatty, 2, status=Vote.Status.VOID)  # voided by hand: no reason code
    Vote.objects.filter(nominee=jury.soren, status=Vote.Status.COUNTED).update(verified=True)
    return jury


def test_reasons_are_reported_by_family_the_first_one_named(checked):
    assert family_of("too_fast new_voters_address") == "automation"
    assert family_of("new_voters_address too_fast") == "crowd"
    assert family_of("") == "review"
    report = integrity_report(checked.award, now=timezone.now())
    totals = report["totals"]
    assert (totals["received"], totals["counted"], totals["held"], totals["void"]) == (74, 65, 4, 5)
    assert totals["held_by_family"]["automation"] == 4
    assert totals["void_by_family"] == {
        "crowd": 0,
        "automation": 0,
        "burst": 3,
        "outage": 0,
        "review": 2,
    }
    assert totals["checked_by_browser"] == 30
    experts = next(c for c in report["categories"] if c["name"] == "Experts")
    assert (experts["received"], experts["held"], experts["void"]) == (67, 4, 3)


def test_the_published_report_names_no_threshold_and_no_address(checked, organizer):
    publication_publish(
        award=checked.award,
        by=organizer,
        at=timezone.now() - timedelta(minutes=1),
        acknowledged=True,
    )
    page = Client().get("/sbia/integrity/")
    assert page.status_code == 200
    text = strip_tags(page.text)
    assert "Signs of a script" in text and "A sudden burst for one nominee" in text
    assert "An organizer's review" in text.replace("&#x27;", "'")
    assert "198.51." not in page.text
    assert str(checked.award.new_voters_per_address) + " new voters" not in text
    assert "public" in page["Cache-Control"]


def test_a_nominee_sees_the_figures_for_their_own_votes_once_voting_has_closed(checked):
    figures = nominee_integrity(checked.soren.pk)
    assert (figures["received"], figures["counted"], figures["held"]) == (34, 30, 4)
    text = strip_tags(Client().get(stats_path(checked.soren)).text)
    assert "How your votes were checked" in text
    assert "Held: Signs of a script" in text


def test_during_voting_the_nominee_sees_no_reasons(nominee):
    text = strip_tags(Client().get(stats_path(nominee)).text)
    assert "How your votes were checked" not in text
