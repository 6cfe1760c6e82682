"""Standings on pages and in JSON, and what each visibility setting lets the public see."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from awards.models import Award
from tests.ballots import cast_vote, voter_somewhere
from tests.factories import CategoryFactory, NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
# Distinctive counts, so that a leak is easy to spot in any page or payload.
VOTES = {"Dora": 13, "Bea": 11, "Cy": 11, "Al": 7}


@pytest.fixture
def race(experts):
    apps = CategoryFactory(award=experts.award, name="Apps", slug="apps")
    people = {
        name: NomineeFactory(category=experts, name=name, slug=name.lower()) for name in VOTES
    }
    people["Ledgerly"] = NomineeFactory(category=apps, name="Ledgerly", slug="ledgerly")
    for name, count in {**VOTES, "Ledgerly": 12}.items():
        for _ in range(count):
            voter = voter_somewhere()
            cast_vote(nominee=people[name], voter=voter, now=timezone.now())
    standings_recompute(award_id=experts.award_id)
    return people


def set_award(race, **fields):
    Award.objects.filter(pk=race["Dora"].award_id).update(**fields)


def public_texts(client, race) -> list[str]:
    slug = race["Dora"].award.slug
    urls = [
        f"/{slug}/",
        f"/{slug}/standings/",
        f"/{slug}/standings/experts/",
        f"/{slug}/bea/",
        f"/api/{slug}/standings/",
        f"/api/{slug}/standings/experts/",
        f"/api/{slug}/nominees/bea/",
    ]
    texts = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        texts.append(response.text)
    return texts


def test_nominee_page_says_rank_in_category_and_overall(client, race):
    response = client.get("/sbia/bea/")
    assert "#2 in Experts" in response.text
    assert "#3 overall" in response.text
    assert "11 votes" in response.text


def test_award_home_shows_the_overall_top_and_each_categorys_leaders(client, race):
    response = client.get("/sbia/")
    top = response.context["top"]
    assert [row.nominee.name for row in top] == ["Dora", "Ledgerly", "Bea", "Cy", "Al"]
    leaders = {
        category.name: [r.nominee.name for r in rows]
        for category, rows in response.context["leaders"].items()
    }
    assert leaders == {"Experts": ["Dora", "Bea", "Cy"], "Apps": ["Ledgerly"]}


def test_category_standings_paginate_and_search(client, experts):
    NomineeFactory.create_batch(320, category=experts)
    NomineeFactory(category=experts, name="Zelda Findme", twitter_handle="zeldaf")
    standings_recompute(award_id=experts.award_id)
    first = client.get("/sbia/standings/experts/")
    assert first.context["page"].paginator.count == 321
    assert len(first.context["page"]) == 50
    found = client.get("/sbia/standings/experts/", {"q": "@zeldaf"})
    assert [row.nominee.name for row in found.context["page"]] == ["Zelda Findme"]
    data = client.get("/api/sbia/standings/experts/", {"page": 7}).json()
    assert (data["page"], data["pages"], data["count"], len(data["results"])) == (7, 7, 321, 21)


def test_json_standings_for_widgets(client, race):
    data = client.get("/api/sbia/standings/").json()
    assert data["visible"] is True
    assert data["updated_at"]
    first = data["results"][0]
    assert (first["nominee"], first["rank"], first["votes"], first["category"]) == (
        "Dora",
        1,
        13,
        "Experts",
    )
    assert first["url"].endswith("/sbia/dora/")
    nominee = client.get("/api/sbia/nominees/cy/").json()
    assert (nominee["category_rank"], nominee["overall_rank"], nominee["votes"]) == (2, 3, 11)


def test_unknown_award_or_category_in_the_api_is_a_404(client, race):
    assert client.get("/api/nope/standings/").status_code == 404
    assert client.get("/api/sbia/standings/nope/").status_code == 404
    assert client.get("/api/sbia/nominees/nope/").status_code == 404


def test_ranks_only_shows_ranks_and_no_counts_anywhere(client, race):
    set_award(race, standings_visibility=Award.Visibility.RANKS)
    texts = public_texts(client, race)
    joined = "\n".join(texts)
    assert "#2 in Experts" in joined
    for count in ("13 vote", "11 vote", ">13<", '"votes"', ">7<", "· 13"):
        assert count not in joined, count


def test_hidden_until_published_leaks_nothing_in_html_or_json(client, race):
    set_award(race, standings_visibility=Award.Visibility.HIDDEN)
    texts = public_texts(client, race)
    joined = "\n".join(texts)
    assert "hidden until the results are published" in joined
    assert not re.search(r"#\d+ (in|overall)", joined)
    for leak in ('"rank"', '"votes"', '"results"', "13 vote", ">13<", "· 13", "Leading overall"):
        assert leak not in joined, leak


def test_blackout_hides_standings_in_the_final_hours(client, race):
    set_award(race, blackout_hours=48, voting_closes=timezone.now() + timedelta(hours=47))
    joined = "\n".join(public_texts(client, race))
    assert "hidden for the final 48 hours" in joined
    assert not re.search(r"#\d+ (in|overall)", joined)
    assert '"votes"' not in joined and '"rank"' not in joined


def test_before_the_blackout_standings_are_shown(client, race):
    set_award(race, blackout_hours=48, voting_closes=timezone.now() + timedelta(hours=49))
    assert "#2 in Experts" in client.get("/sbia/bea/").text


def test_published_results_show_final_counts_and_ranks(client, race):
    set_award(
        race,
        standings_visibility=Award.Visibility.HIDDEN,
        voting_closes=timezone.now() - timedelta(hours=1),
        voting_opens=timezone.now() - timedelta(days=30),
        results_published_at=timezone.now() - timedelta(minutes=1),
    )
    data = client.get("/api/sbia/standings/").json()
    assert data["visible"] is True
    assert data["results"][0]["votes"] == 13


def test_publishing_in_the_future_keeps_results_hidden_until_then(client, race):
    set_award(
        race,
        standings_visibility=Award.Visibility.HIDDEN,
        results_published_at=timezone.now() + timedelta(days=1),
    )
    assert client.get("/api/sbia/standings/").json()["visible"] is False


@pytest.mark.parametrize("path", ["/{award}/standings/", "/api/{award}/standings/"])
def test_a_nul_byte_in_the_standings_search_is_no_server_error(client, nominee, path):
    response = client.get(path.format(award=nominee.award.slug), {"q": "ada\x00"})
    assert response.status_code == 200
