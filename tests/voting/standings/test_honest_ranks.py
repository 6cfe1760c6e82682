"""Honest ranks: nobody is "#1" of a field of zeros; ties keep standard competition ranks."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from awards.models import Award
from tests.ballots import cast_vote, voter_at
from tests.factories import NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db


def give_votes(nominee, count: int) -> None:
    for i in range(count):
        cast_vote(nominee=nominee, voter=voter_at(f"198.51.100.{i + 1}"), now=timezone.now())


@pytest.fixture
def launch_day(experts):
    """Ten nominees, nobody has voted yet."""
    nominees = [
        NomineeFactory(category=experts, name=f"Person {i}", slug=f"p{i}") for i in range(10)
    ]
    standings_recompute(award_id=experts.award_id)
    return nominees


def test_a_nominee_without_votes_shows_no_rank(client, launch_day):
    response = client.get(launch_day[0].get_absolute_url())
    assert "No votes yet — be the first" in strip_tags(response.text)
    assert not re.search(r"#\d+ (in|overall)", response.text)
    assert "0 votes" not in response.text
    public = response.context["public"]
    assert (public.category_rank, public.overall_rank, public.no_votes_yet) == (None, None, True)


def test_once_voted_the_rank_appears(client, launch_day):
    give_votes(launch_day[3], 2)
    standings_recompute(award_id=launch_day[3].award_id)
    text = client.get(launch_day[3].get_absolute_url()).text
    assert "#1 in Experts" in text and "#1 overall" in text and "2 votes" in text
    assert "No votes yet" not in text
    assert "No votes yet — be the first" in strip_tags(
        client.get(launch_day[4].get_absolute_url()).text
    )


def test_the_award_home_lists_no_zero_vote_leaders(client, launch_day):
    response = client.get("/sbia/")
    assert response.context["top"] == []
    assert response.context["leaders"] == {}
    assert "No votes yet" in response.text
    give_votes(launch_day[5], 1)
    standings_recompute(award_id=launch_day[5].award_id)
    response = client.get("/sbia/")
    assert [row.nominee.name for row in response.context["top"]] == ["Person 5"]
    assert [
        [row.nominee.name for row in rows] for rows in response.context["leaders"].values()
    ] == [["Person 5"]]


def test_standings_list_everyone_but_rank_only_nominees_with_votes(client, launch_day):
    give_votes(launch_day[2], 1)
    standings_recompute(award_id=launch_day[2].award_id)
    for url in ("/sbia/standings/", "/sbia/standings/experts/"):
        response = client.get(url)
        assert response.context["page"].paginator.count == 10
        rows = re.findall(r'<td class="num">(.*?)</td>\s*<td><a [^>]*>([^<]+)</a>', response.text)
        ranks = {name: rank for rank, name in rows}
        assert ranks["Person 2"] == "1"
        assert "—" in ranks["Person 0"] and not re.search(r"\d", ranks["Person 0"])


def test_the_json_gives_no_rank_without_votes(client, launch_day):
    data = client.get("/api/sbia/nominees/p0/").json()
    assert (data["rank"], data["category_rank"], data["overall_rank"], data["votes"]) == (
        None,
        None,
        None,
        0,
    )
    results = client.get("/api/sbia/standings/experts/").json()["results"]
    assert {row["rank"] for row in results} == {None}


def test_ties_share_standard_competition_ranks(client, launch_day):
    give_votes(launch_day[0], 3)
    give_votes(launch_day[1], 2)
    give_votes(launch_day[2], 2)
    give_votes(launch_day[3], 1)
    standings_recompute(award_id=launch_day[0].award_id)
    ranks = [
        client.get(n.get_absolute_url()).context["public"].category_rank for n in launch_day[:5]
    ]
    assert ranks == [1, 2, 2, 4, None]
    assert "#2 in Experts" in client.get(launch_day[2].get_absolute_url()).text


def test_ranks_only_says_no_votes_without_a_count(client, launch_day):
    Award.objects.filter(pk=launch_day[0].award_id).update(
        standings_visibility=Award.Visibility.RANKS
    )
    text = strip_tags(client.get(launch_day[0].get_absolute_url()).text)
    assert "No votes yet — be the first" in text
    assert client.get("/api/sbia/nominees/p0/").json().get("votes") is None


def test_after_the_close_nobody_is_asked_to_be_first(client, launch_day):
    Award.objects.filter(pk=launch_day[0].award_id).update(
        voting_opens=timezone.now() - timedelta(days=10),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    text = client.get(launch_day[0].get_absolute_url()).text
    assert "No votes" in text and "be the first" not in text


def test_hidden_standings_say_why_and_nothing_about_votes(client, launch_day):
    Award.objects.filter(pk=launch_day[0].award_id).update(
        standings_visibility=Award.Visibility.HIDDEN
    )
    text = client.get(launch_day[0].get_absolute_url()).text
    assert "hidden until the results are published" in text
    assert "No votes" not in text
