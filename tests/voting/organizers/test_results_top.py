"""The results page shows each category's top rows; every row is a link away, and in the CSV."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from awards.models import Award
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.models import TallyDelta, Vote
from voting.organizers import views
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(experts):
    """Experts: Person 01 to Person 12 with 12 votes down to 1, then ten without votes."""
    award = experts.award
    Award.objects.filter(pk=award.pk).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    award.refresh_from_db()
    nominees = [
        NomineeFactory(category=experts, name=f"Person {i:02d}", slug=f"p{i:02d}")
        for i in range(1, 23)
    ]
    votes = []
    for i, nominee in enumerate(nominees[:12]):
        n = 12 - i
        votes += [
            Vote(
                award=award,
                nominee=nominee,
                category=experts,
                created_at=award.voting_closes - timedelta(hours=1),
                voter_key=f"{nominee.pk:04d}{j:028d}",
                ip=f"198.51.100.{j + 1}",
                network="198.51.100.0/24",
            )
            for j in range(n)
        ]
        TallyDelta.objects.create(award=award, nominee=nominee, amount=n)
    Vote.objects.bulk_create(votes)
    standings_recompute(award_id=award.pk)
    return nominees


def shown_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]+)</th>', html)


def test_the_results_page_shows_the_top_ten_and_links_to_the_whole_category(
    client, crowd, organizer, experts
):
    client.force_login(organizer)
    page = client.get(reverse("results-review", args=[experts.award_id])).text
    assert shown_names(page) == [f"Person {i:02d}" for i in range(1, 11)]
    link = reverse("results-category", args=[experts.award_id, experts.pk])
    assert f'<a href="{link}">All 22 nominees in Experts</a>' in page


def test_a_marked_nominee_below_the_top_stays_on_the_page(client, crowd, organizer, experts):
    Award.objects.filter(pk=experts.award_id).update(finalists_per_category=11)
    client.force_login(organizer)
    page = client.get(reverse("results-review", args=[experts.award_id])).text
    assert shown_names(page)[-1] == "Person 11"
    assert re.search(rf'name="finalists" value="{crowd[10].pk}"[^>]* checked', page)


def test_the_category_page_lists_everyone_a_page_at_a_time(
    client, crowd, organizer, experts, monkeypatch
):
    monkeypatch.setattr(views, "CATEGORY_ROWS_PER_PAGE", 10)
    client.force_login(organizer)
    url = reverse("results-category", args=[experts.award_id, experts.pk])
    first = client.get(url)
    assert shown_names(first.text) == [f"Person {i:02d}" for i in range(1, 11)]
    last = client.get(url, {"page": 3}).text
    assert shown_names(last) == ["Person 21", "Person 22"]
    assert re.search(r'<td class="laurel-num">—</td>\s*<th scope="row">Person 22</th>', last)
    assert "No votes" in last
    assert client.get(url, {"page": "abc"}).status_code == 200


def test_another_awards_category_is_not_found(client, crowd, organizer, experts):
    elsewhere = CategoryFactory(award=AwardFactory(slug="other"))
    client.force_login(organizer)
    url = reverse("results-category", args=[experts.award_id, elsewhere.pk])
    assert client.get(url).status_code == 404


def test_the_csv_still_has_every_nominee(client, crowd, organizer, experts):
    client.force_login(organizer)
    response = client.get(reverse("export-results", args=[experts.award_id]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len([row for row in rows if row[0] == "Experts"]) == 22
