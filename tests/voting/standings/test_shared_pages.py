"""Pages the same for everyone say so to proxies and CDNs when asked without cookies; pages
with a visitor's own things never do."""

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.ballots import vote_like_a_browser
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_urls(nominee):
    standings_recompute(award_id=nominee.award_id)
    return [
        "/",
        "/sbia/",
        "/sbia/categories/experts/",
        "/sbia/standings/",
        "/sbia/standings/experts/",
        "/api/sbia/standings/",
        "/api/sbia/nominees/ada-lovelace/",
        "/sbia/rules/",
        "/sbia/privacy/",
    ]


def test_a_shared_page_asked_without_cookies_may_be_kept_by_a_proxy(shared_urls, settings):
    for url in shared_urls:
        response = Client().get(url)
        assert response.status_code == 200, url
        control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"public", "max-age=0", f"s-maxage={settings.SHARED_PAGE_SECONDS}"} <= control, url
        assert any(part.startswith("stale-while-revalidate=") for part in control), url
        assert not response.cookies, url
        assert "Cookie" not in response.get("Vary", ""), url
        assert response.has_header("ETag"), url


def test_a_browser_that_has_the_page_gets_a_304(shared_urls):
    browser = Client()
    for url in shared_urls:
        etag = browser.get(url)["ETag"]
        assert browser.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, url


def test_a_request_with_cookies_is_never_told_the_page_is_shared(shared_urls):
    browser = Client()
    browser.cookies["laurel_voter"] = "someone"
    for url in shared_urls:
        assert "public" not in browser.get(url).get("Cache-Control", ""), url


def test_the_nominee_page_with_its_vote_box_is_never_kept(nominee):
    response = Client().get(nominee.get_absolute_url())
    assert "public" not in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]


def test_tracking_parameters_keep_a_page_shared(shared_urls):
    for url in shared_urls:
        response = Client().get(f"{url}?ref=twitter&utm_source=x&fbclid=abc")
        assert "public" in response["Cache-Control"], url


def test_a_query_the_proxy_would_key_differently_is_never_kept(shared_urls):
    # nginx keys ?page= by its first value and matches names in any case; Django reads the
    # last value and the exact name. Either way one page could be stored under another's key.
    for query in ("?page=1&page=3", "?PAGE=3", "?Q=ada", "?sort=votes"):
        response = Client().get(f"/sbia/standings/{query}")
        assert response.status_code == 200, query
        assert "public" not in response.get("Cache-Control", ""), query


def test_a_voter_who_has_voted_sees_the_same_shared_pages_as_anyone(shared_urls, nominee):
    voter = Client()
    vote_like_a_browser(nominee, voter)
    standings_recompute(award_id=nominee.award_id)
    assert voter.cookies
    with time_machine.travel(timezone.now(), tick=False):
        for url in shared_urls:
            assert voter.get(url).content == Client().get(url).content, url


def test_images_for_embedding_are_shared_whoever_asks(nominee):
    images = ["badge.svg", "badge.png", "share.png", "qr.svg", "qr.png"]
    for browser in (Client(), Client()):
        for image in images:
            response = browser.get(f"{nominee.get_absolute_url()}{image}")
            assert response.status_code == 200, image
            assert "public" in response["Cache-Control"], image
            assert not response.cookies, image
            assert "Cookie" not in response.get("Vary", ""), image
            assert response.has_header("ETag"), image
        browser.cookies["laurel_voter"] = "someone"
