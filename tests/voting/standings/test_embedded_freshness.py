"""Embedded mode, with no worker and no beat, shows every counted vote on every page."""

import itertools
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client

from tests.ballots import vote_like_a_browser
from tests.factories import NomineeFactory
from voting.models import TallyDelta

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.REAL_MODE,
        reason="real mode converges through the worker and the beat (test_standings_worker.py)",
    ),
]
addresses = (f"198.51.100.{n}" for n in itertools.count(10))


@pytest.fixture
def trio(experts):
    return [
        NomineeFactory(category=experts, name=name, slug=name.lower())
        for name in ("Ayo", "Bex", "Cid")
    ]


@pytest.fixture
def burst(trio):
    """Three voters vote 1, 2 and 3 times (Ayo 3 votes, Bex 2, Cid 1), all within one nudge
    window: the clock that decides the window stands still, so only the first vote nudges."""
    with mock.patch("voting.standings.services.time.monotonic", return_value=1000.0):
        for count in (1, 2, 3):
            browser, address = Client(), next(addresses)
            for nominee in trio[:count]:
                response = vote_like_a_browser(
                    nominee, browser, HTTP_ACCEPT="application/json", REMOTE_ADDR=address
                )
                assert response.json()["outcome"] == "counted"
    # As in the report: the burst's last vote, Cid's only one, is not in the standings yet.
    assert TallyDelta.objects.filter(nominee=trio[2]).exists()
    return trio


def test_the_last_votes_of_a_burst_reach_the_nominee_page(client, burst):
    ayo, bex, cid = burst
    assert "3 votes" in client.get(ayo.get_absolute_url()).text
    assert "2 votes" in client.get(bex.get_absolute_url()).text
    page = client.get(cid.get_absolute_url()).text
    assert "#3 in Experts" in page
    assert "1 vote" in page
    assert "No votes yet" not in page


def test_the_last_votes_of_a_burst_reach_the_award_home(client, burst):
    page = client.get(burst[0].award.get_absolute_url()).text
    for name, count in (("Ayo", "3 votes"), ("Bex", "2 votes"), ("Cid", "1 vote")):
        assert f'>{name}</a> <span class="muted">· Experts · {count}<' in page


@pytest.mark.parametrize("path", ["/{award}/standings/", "/{award}/standings/experts/"])
def test_the_last_votes_of_a_burst_reach_the_standings(client, burst, path):
    page = client.get(path.format(award=burst[0].award.slug)).text
    rows = [row.split("</td>")[0] for row in page.split('<td class="num">')[1:]]
    assert [row for row in rows if not row.startswith("<")] == ["1", "3", "2", "2", "3", "1"]


@pytest.mark.parametrize("path", ["/api/{award}/standings/", "/api/{award}/standings/experts/"])
def test_the_last_votes_of_a_burst_reach_the_standings_json(client, burst, path):
    results = client.get(path.format(award=burst[0].award.slug)).json()["results"]
    assert [(row["nominee"], row["rank"], row["votes"]) for row in results] == [
        ("Ayo", 1, 3),
        ("Bex", 2, 2),
        ("Cid", 3, 1),
    ]


def test_the_last_votes_of_a_burst_reach_the_nominee_json(client, burst):
    cid = burst[2]
    found = client.get(f"/api/{cid.award.slug}/nominees/{cid.slug}/").json()
    assert (found["rank"], found["overall_rank"], found["votes"]) == (3, 3, 1)


def test_a_page_read_folds_pending_votes_once(client, burst):
    client.get(burst[0].get_absolute_url())
    assert not TallyDelta.objects.filter(award=burst[0].award).exists()
