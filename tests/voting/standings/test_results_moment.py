"""The results moment: once the results are published, winners and finalists everywhere."""

from datetime import timedelta

import pytest
from django.utils import timezone

from awards.models import Award
from tests.ballots import cast_vote, voter_at
from tests.factories import CategoryFactory, NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
# Experts: Dora wins, Bea and Cy tie for second, Al fourth, Eve has no votes. Apps: Ledgerly.
VOTES = {"Dora": 6, "Bea": 4, "Cy": 4, "Al": 2, "Eve": 0}


@pytest.fixture
def race(experts):
    apps = CategoryFactory(award=experts.award, name="Apps", slug="apps")
    CategoryFactory(award=experts.award, name="Quiet", slug="quiet")
    people = {
        name: NomineeFactory(category=experts, name=name, slug=name.lower()) for name in VOTES
    }
    people["Ledgerly"] = NomineeFactory(category=apps, name="Ledgerly", slug="ledgerly")
    for name, count in {**VOTES, "Ledgerly": 7}.items():
        for i in range(count):
            cast_vote(
                nominee=people[name], voter=voter_at(f"198.51.100.{i + 1}"), now=timezone.now()
            )
    standings_recompute(award_id=experts.award_id)
    return people


def publish(race, *, finalists: int = 3, at=None) -> None:
    Award.objects.filter(pk=race["Dora"].award_id).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(days=1),
        results_published_at=at or timezone.now() - timedelta(hours=1),
        finalists_per_category=finalists,
        # Hidden until published: publication is what lets the results out.
        standings_visibility=Award.Visibility.HIDDEN,
    )


def test_the_award_home_shows_winners_and_finalists_per_category_and_overall(client, race):
    publish(race)
    response = client.get("/sbia/")
    assert "Results" in response.text
    assert "Leading overall" not in response.text
    results = response.context["results"]
    assert [p.nominee.name for p in results.overall_winners] == ["Ledgerly"]
    by_category = {
        category.name: [(p.nominee.name, p.rank, p.result) for p in placings]
        for category, placings in results.categories
    }
    assert by_category == {
        "Experts": [("Dora", 1, "winner"), ("Bea", 2, "finalist"), ("Cy", 2, "finalist")],
        "Apps": [("Ledgerly", 1, "winner")],
        "Quiet": [],
    }
    assert "No votes were cast in this category." in response.text
    assert "Winner" in response.text and "Finalist" in response.text


def test_ties_at_the_last_finalist_place_are_all_finalists(client, race):
    publish(race, finalists=2)
    results = client.get("/sbia/").context["results"]
    experts = dict(results.categories)[race["Dora"].category]
    assert [p.nominee.name for p in experts] == ["Dora", "Bea", "Cy"]


def test_nominee_pages_show_winner_or_finalist(client, race):
    publish(race)
    dora = client.get("/sbia/dora/")
    assert dora.context["public"].result == "winner"
    assert "Winner</strong> · Experts" in dora.text
    bea = client.get("/sbia/bea/")
    assert bea.context["public"].result == "finalist"
    assert "Finalist</strong> · Experts" in bea.text
    for name in ("al", "eve"):
        response = client.get(f"/sbia/{name}/")
        assert response.context["public"].result is None
        assert "result-label" not in response.text


def test_the_nominee_json_has_the_result(client, race):
    assert client.get("/api/sbia/nominees/dora/").json()["result"] is None
    publish(race)
    assert client.get("/api/sbia/nominees/dora/").json()["result"] == "winner"
    assert client.get("/api/sbia/nominees/cy/").json()["result"] == "finalist"
    assert client.get("/api/sbia/nominees/al/").json()["result"] is None
    assert client.get("/api/sbia/nominees/eve/").json()["result"] is None


def test_nothing_is_announced_before_publication(client, race):
    publish(race, at=timezone.now() + timedelta(hours=2))
    response = client.get("/sbia/")
    assert "results" not in response.context
    assert "Winner" not in response.text and "Results" not in response.text
    assert "result-label" not in client.get("/sbia/dora/").text
    data = client.get("/api/sbia/nominees/dora/").json()
    assert data["result"] is None and "rank" not in data


def test_the_standings_become_final(client, race):
    publish(race)
    text = client.get("/sbia/standings/experts/").text
    assert "Experts: final standings" in text
    assert "Final results, published" in text


def test_the_share_prompt_can_celebrate(client, race):
    """The share sheet (voting/sharing/share.py) reads the result from the page's `public`."""
    publish(race)
    response = client.get("/sbia/dora/")
    assert response.context["public"].label("Experts") == "Winner · Experts"
