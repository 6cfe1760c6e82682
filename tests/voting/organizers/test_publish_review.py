"""Publishing is a reviewed step: the button opens a review of what will be public and of what
should give an organizer pause; only its confirming POST publishes."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from awards.models import Award
from tests.factories import CategoryFactory, NomineeFactory
from voting.models import AuditEntry, PublishedResult, TallyDelta, Vote
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db


def cast(nominee, n: int) -> None:
    Vote.objects.bulk_create(
        Vote(
            award_id=nominee.award_id,
            nominee=nominee,
            category_id=nominee.category_id,
            created_at=nominee.award.voting_closes - timedelta(hours=1, seconds=i),
            voter_key=f"{nominee.pk:04d}{i:028d}",
            ip=f"198.51.100.{i + 1}",
            network="198.51.100.0/24",
        )
        for i in range(n)
    )
    if n:
        TallyDelta.objects.create(award_id=nominee.award_id, nominee=nominee, amount=n)


def closed(award: Award) -> Award:
    Award.objects.filter(pk=award.pk).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    award.refresh_from_db()
    return award


@pytest.fixture
def field(experts):
    """Closed; Experts: Søren 5, 李娜 Zhang 3, Al 2, Bo 1, Eve none; Apps: Ledgerly 4."""
    award = closed(experts.award)
    apps = CategoryFactory(award=award, name="Apps", slug="apps")
    votes = {"Søren Wójcik": 5, "李娜 Zhang": 3, "Al": 2, "Bo": 1, "Eve": 0}
    people = {
        name: NomineeFactory(category=experts, name=name, slug=f"n{i}")
        for i, name in enumerate(votes)
    }
    people["Ledgerly"] = NomineeFactory(category=apps, name="Ledgerly", slug="ledgerly")
    for name, n in {**votes, "Ledgerly": 4}.items():
        people[name].award = award
        cast(people[name], n)
    standings_recompute(award_id=award.pk)
    return people


def publish_url(award) -> str:
    return reverse("results-publish", args=[award.pk])


def when(award) -> dict:
    return {"publish_at": award.local(timezone.now()).strftime("%Y-%m-%dT%H:%M")}


def hold(nominee, n: int = 1) -> None:
    held = Vote.objects.filter(nominee=nominee, status=Vote.Status.COUNTED)[:n]
    Vote.objects.filter(pk__in=[vote.pk for vote in held]).update(status=Vote.Status.QUARANTINED)


def test_the_publish_button_opens_a_review_and_publishes_nothing(client, field, organizer):
    award = field["Al"].award
    client.force_login(organizer)
    page = client.get(reverse("results-review", args=[award.pk])).text
    form = re.search(r'<form method="get" action="([^"]+)" id="publish-form">', page)
    assert form and form[1] == publish_url(award)
    assert 'value="Review and publish"' in page
    assert client.post(reverse("results-review", args=[award.pk]), when(award)).status_code == 405

    review = client.get(publish_url(award), when(award))
    assert review.status_code == 200
    assert 'method="post"' in review.text and "csrfmiddlewaretoken" in review.text
    assert not PublishedResult.objects.exists()
    award.refresh_from_db()
    assert award.results_frozen_at is None


def test_the_review_summarises_the_top_three_per_category_and_the_totals(client, field, organizer):
    award = field["Al"].award
    client.force_login(organizer)
    marks = {
        "winners": [field["Søren Wójcik"].pk, field["Ledgerly"].pk],
        "finalists": [field["李娜 Zhang"].pk],
    }
    review = client.get(publish_url(award), {**when(award), **marks})
    summary = {
        category.name: [entry["row"].nominee.name for entry in leaders]
        for category, leaders in review.context["summary"]
    }
    assert summary == {"Experts": ["Søren Wójcik", "李娜 Zhang", "Al"], "Apps": ["Ledgerly"]}
    text = review.text
    assert "Søren Wójcik</strong> · 5 votes · Winner" in text
    assert "李娜 Zhang</strong> · 3 votes · Finalist" in text
    check = review.context["check"]
    assert (check.counted, check.held, check.void) == (15, 0, 0)
    assert (review.context["ranked"], review.context["nominees"]) == (5, 6)
    assert "Before you publish" not in text
    assert review.context["marked"] == 3


def test_held_votes_are_a_warning_with_a_link_to_the_integrity_review(client, field, organizer):
    award = field["Al"].award
    hold(field["Søren Wójcik"], 2)
    client.force_login(organizer)
    review = client.get(publish_url(award), when(award))
    assert "2 votes are still held for review" in review.text
    assert f'href="{reverse("integrity-review", args=[award.pk])}"' in review.text
    assert 'name="acknowledge" required' in review.text

    data = {**when(award), "seen": review.context["check"].seen}
    refused = client.post(publish_url(award), data)
    assert refused.status_code == 400
    assert "Publish despite these warnings" in refused.text
    assert not PublishedResult.objects.exists()

    done = client.post(publish_url(award), {**data, "acknowledge": "on"})
    assert done.status_code == 302
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PUBLISH)
    assert entry.user == organizer
    assert (entry.detail["warnings"], entry.detail["held_votes"]) == (["held"], 2)


def test_an_award_without_counted_votes_is_a_warning_and_publishes_nobody_ranked(
    client, experts, organizer
):
    award = closed(experts.award)
    for i in range(3):
        NomineeFactory(category=experts, name=f"Person {i}", slug=f"p{i}")
    standings_recompute(award_id=award.pk)
    client.force_login(organizer)
    review = client.get(publish_url(award), when(award))
    assert "This award has no counted votes" in review.text
    assert "No votes in this category" in review.text
    data = {**when(award), "seen": review.context["check"].seen, "acknowledge": "on"}
    assert client.post(publish_url(award), data).status_code == 302
    assert set(PublishedResult.objects.values_list("category_rank", "result")) == {(None, "")}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PUBLISH)
    assert entry.detail["warnings"] == ["no_votes"]


def test_a_confirmation_of_figures_that_changed_since_is_refused(client, field, organizer):
    award = field["Al"].award
    client.force_login(organizer)
    review = client.get(publish_url(award), when(award))
    hold(field["Bo"])
    data = {**when(award), "seen": review.context["check"].seen, "acknowledge": "on"}
    response = client.post(publish_url(award), data)
    assert response.status_code == 409
    assert "The votes changed since this page was shown" in response.text
    assert "1 vote is still held for review" in response.text
    assert not PublishedResult.objects.exists()


def test_a_post_that_skipped_the_review_publishes_nothing(client, field, organizer):
    award = field["Al"].award
    client.force_login(organizer)
    assert client.post(publish_url(award), when(award)).status_code == 409
    assert not PublishedResult.objects.exists()


def test_the_confirming_post_needs_a_csrf_token(field, organizer):
    award = field["Al"].award
    client = Client(enforce_csrf_checks=True)
    client.force_login(organizer)
    seen = client.get(publish_url(award), when(award)).context["check"].seen
    response = client.post(publish_url(award), {**when(award), "seen": seen})
    assert response.status_code == 403
    assert not PublishedResult.objects.exists()


def test_staff_without_the_publish_permission_cannot_open_the_review(
    client, field, django_user_model
):
    award = field["Al"].award
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(publish_url(award), when(award)).status_code == 403
    assert client.post(publish_url(award), when(award)).status_code == 403
    assert not PublishedResult.objects.exists()
