"""Every public page costs the same few queries however many rows it shows."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awards.models import Award
from tests.ballots import cast_vote, voter_somewhere
from tests.factories import CategoryFactory, NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
# Embedded mode adds one query to every page of an award: are votes waiting to be folded in?
CATCH_UP = 0 if settings.REAL_MODE else 1
PAGES = {
    # page: (path, queries)
    # In production the vote box reads the nominee from memory; tests read it every time.
    "nominee": ("/{award}/{nominee}/", 5),
    "award home": ("/{award}/", 7),
    "award home, searched": ("/{award}/?q=nominee", 7),
    "award home, results published": ("/{award}/", 7),
    "category": ("/{award}/categories/experts/", 3),
    "category, searched": ("/{award}/categories/experts/?q=nominee", 3),
    "standings": ("/{award}/standings/", 5),
    "standings, searched": ("/{award}/standings/?q=nominee", 5),
    "category standings": ("/{award}/standings/experts/", 5),
    "standings JSON": ("/api/{award}/standings/", 4),
    "category standings JSON": ("/api/{award}/standings/experts/", 4),
    "nominee JSON": ("/api/{award}/nominees/{nominee}/", 2),
}


def grow(experts, apps, size: int) -> None:
    """`size` more nominees in each of two categories, each with votes; standings computed."""
    added = [NomineeFactory(category=category) for category in (experts, apps) for _ in range(size)]
    for index, nominee in enumerate(added):
        for _ in range(1 + index % 3):
            voter = voter_somewhere()
            cast_vote(nominee=nominee, voter=voter, now=timezone.now())
    standings_recompute(award_id=experts.award_id)


def queries_for(client, path: str, nominee) -> int:
    url = path.format(award=nominee.award.slug, nominee=nominee.slug)
    client.get(url)  # the first visit mints the voter's cookie
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_a_page_costs_the_same_queries_for_one_nominee_or_many(client, nominee, page):
    path, pinned = PAGES[page]
    apps = CategoryFactory(award=nominee.award, name="Apps", slug="apps")
    if "published" in page:
        Award.objects.filter(pk=nominee.award_id).update(results_published_at=timezone.now())
    grow(nominee.category, apps, 0)
    few = queries_for(client, path, nominee)
    grow(nominee.category, apps, 40)
    many = queries_for(client, path, nominee)
    assert (few, many) == (pinned + CATCH_UP, pinned + CATCH_UP)


@pytest.mark.parametrize("page", ["award home", "standings", "standings JSON", "nominee JSON"])
def test_a_page_from_the_cache_costs_no_query(client, nominee, page, settings):
    settings.PAGE_CACHE_SECONDS = 10
    grow(nominee.category, CategoryFactory(award=nominee.award, slug="apps"), 5)
    # Embedded mode's cache is a database table: its one read is a query there.
    assert queries_for(client, PAGES[page][0], nominee) == (0 if settings.REAL_MODE else 2)
