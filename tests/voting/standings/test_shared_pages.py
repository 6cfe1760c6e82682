"""Pages the same for everyone say so to proxies and CDNs when asked without cookies; pages
with a visitor's own things never do."""

import pytest
from django.test import Client

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
