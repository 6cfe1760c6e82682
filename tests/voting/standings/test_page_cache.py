"""Public pages come from the cache while nothing they show has changed, and never share what
belongs to one voter; HTML is compressed, and static files have long-lived hashed names."""

import gzip
import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.ballots import cast_vote, clock_at, form_of, vote_like_a_browser, voter_somewhere
from tests.factories import NomineeFactory
from voting.ballot.tokens import token_check
from voting.ballot.voters import COOKIE_NAME, voter_cookie_read
from voting.standings import pages
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
PAGES = [
    "/{award}/",
    "/{award}/categories/experts/",
    "/{award}/standings/",
    "/{award}/standings/experts/",
    "/{award}/{nominee}/",
    "/api/{award}/standings/",
    "/api/{award}/standings/experts/",
    "/api/{award}/nominees/{nominee}/",
]
PAGE_TEMPLATES = {
    "voting/standings/award.html",
    "voting/standings/category.html",
    "voting/standings/standings.html",
}
PAGE_TEMPLATES |= {"voting/ballot/nominee.html", "base.html"}


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 10
    settings.CATALOGUE_CACHE_SECONDS = 5


@pytest.fixture
def race(nominee):
    rival = NomineeFactory(category=nominee.category, name="Grace Hopper", slug="grace-hopper")
    for count, who in ((3, nominee), (1, rival)):
        for _ in range(count):
            voter = voter_somewhere()
            cast_vote(nominee=who, voter=voter, now=timezone.now())
    standings_recompute(award_id=nominee.award_id)
    return nominee, rival


def url(path: str, nominee) -> str:
    return path.format(award=nominee.award.slug, nominee=nominee.slug)


def rendered(response) -> set[str]:
    """The page templates a response rendered: none when it came from the cache."""
    return {template.name for template in response.templates} & PAGE_TEMPLATES


@pytest.mark.parametrize("path", PAGES)
def test_a_page_read_again_comes_from_the_cache(client, race, path):
    first = client.get(url(path, race[0]))
    again = Client().get(url(path, race[0]))
    assert first.status_code == again.status_code == 200
    assert again["Content-Type"] == first["Content-Type"]
    if path.startswith("/api/"):
        assert again.json() == first.json()
        assert again["Access-Control-Allow-Origin"] == "*"
    else:
        assert rendered(first) and not rendered(again)


@pytest.mark.parametrize("path", PAGES)
def test_a_page_shows_a_vote_once_the_standings_are_recomputed(client, race, path):
    ada, grace = race
    assert client.get(url(path, ada)).status_code == 200  # now in the cache
    for _ in range(3):  # Grace overtakes Ada
        voter = voter_somewhere()
        cast_vote(nominee=grace, voter=voter, now=timezone.now())
    standings_recompute(award_id=ada.award_id)
    after = client.get(url(path, ada))
    if path == "/{award}/{nominee}/":
        assert "#2 in Experts" in after.text
    elif path.startswith("/api/") and "nominees" in path:
        assert after.json()["rank"] == 2
    elif path.startswith("/api/"):
        assert after.json()["results"][0]["nominee"] == "Grace Hopper"
    elif "categories" not in path:
        assert "4 votes" in after.text or ">4<" in after.text


def rendering_elsewhere(path: str):
    """As if another request were rendering `path` now (voting/standings/pages.py's rendering mark)."""
    from django.core.cache import cache

    from voting.standings import pages

    request = RequestFactory().get(path)
    key = pages.rendering_key(pages.page_key(request, "sbia"))
    cache.add(key, 1, timeout=pages.REBUILD_SECONDS)
    return key


def overtake(ada, grace):
    for _ in range(3):
        voter = voter_somewhere()
        cast_vote(nominee=grace, voter=voter, now=timezone.now())
    standings_recompute(award_id=ada.award_id)


def leader(response) -> str:
    return response.json()["results"][0]["nominee"]


def test_while_one_request_renders_a_changed_page_the_others_serve_the_previous_one(race):
    from django.core.cache import cache

    ada, grace = race
    api = "/api/sbia/standings/"
    assert leader(Client().get(api)) == "Ada Lovelace"
    overtake(ada, grace)
    key = rendering_elsewhere(api)
    assert leader(Client().get(api)) == "Ada Lovelace"  # the previous body, seconds old
    cache.delete(key)  # that render is done (or gave up)
    assert leader(Client().get(api)) == "Grace Hopper"


def test_a_changed_page_is_rendered_by_the_first_request_that_finds_it_changed(race):
    ada, grace = race
    api = "/api/sbia/standings/"
    Client().get(api)
    overtake(ada, grace)
    assert leader(Client().get(api)) == "Grace Hopper"
    # Its rendering mark is gone, so the next change is rendered at once too.
    overtake(grace, ada)
    assert leader(Client().get(api)) == "Ada Lovelace"


def test_a_page_past_its_award_s_change_of_phase_is_never_served_while_another_renders(race):
    award = race[0].award
    closes = timezone.now() + timedelta(seconds=3)
    award.voting_closes = closes
    award.save()
    assert "left</strong>" in Client().get("/sbia/").text
    rendering_elsewhere("/sbia/")
    later = closes + timedelta(seconds=1)
    with (
        clock_at(later),
        mock.patch("voting.standings.pages.time.time", return_value=later.timestamp()),
    ):
        page = Client().get("/sbia/")
    assert rendered(page)
    assert "Voting closed" in page.text


class CacheReads:
    """The page cache, counting its reads: the keys asked for in each call."""

    def __init__(self):
        from django.core.cache import cache

        self.cache = cache
        self.calls: list[list[str]] = []

    def get(self, key, *args, **kwargs):
        self.calls.append([key])
        return self.cache.get(key, *args, **kwargs)

    def get_many(self, keys, *args, **kwargs):
        self.calls.append(list(keys))
        return self.cache.get_many(keys, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.cache, name)


def test_a_cached_page_is_one_cache_read_while_the_process_knows_its_versions(race, settings):
    settings.PAGE_VERSION_SECONDS = 60
    api = "/api/sbia/standings/"
    Client().get(api)
    with mock.patch("voting.standings.pages.cache", CacheReads()) as reads:
        assert leader(Client().get(api)) == "Ada Lovelace"
    assert len(reads.calls) == 1 and len(reads.calls[0]) == 1, reads.calls


def test_a_recompute_reaches_a_process_trusting_its_versions_within_that_time(race, settings):
    settings.PAGE_VERSION_SECONDS = 1
    ada, grace = race
    api = "/api/sbia/standings/"
    started = time.monotonic()
    with mock.patch("voting.standings.pages.time.monotonic", return_value=started):
        Client().get(api)
        overtake(ada, grace)  # as if in the worker: this process still trusts what it read
        assert leader(Client().get(api)) == "Ada Lovelace"
    with mock.patch("voting.standings.pages.time.monotonic", return_value=started + 1.01):
        assert leader(Client().get(api)) == "Grace Hopper"


def test_a_page_rendered_by_a_process_that_knows_newer_versions_is_served_by_the_others(
    race, settings
):
    """A process whose versions are older than a body's asks the cache again, rather than
    render the body anew over and over."""
    settings.PAGE_VERSION_SECONDS = 60
    ada, grace = race
    api = "/api/sbia/standings/"
    Client().get(api)
    overtake(ada, grace)
    forgotten = dict(pages.remembered_versions)
    pages.forget_page_versions()
    assert leader(Client().get(api)) == "Grace Hopper"  # another process, rendering anew
    pages.remembered_versions.update(forgotten)  # this process, still trusting the older versions
    page = Client().get(api)
    assert leader(page) == "Grace Hopper"
    assert pages.remembered_versions["sbia"] != forgotten["sbia"]


def test_a_searched_page_is_rendered_for_each_search(client, race):
    client.get("/sbia/?q=grace")
    assert rendered(client.get("/sbia/?q=grace"))


def test_each_page_number_and_each_host_has_its_own_body(race, settings):
    ada, _ = race
    NomineeFactory.create_batch(60, category=ada.category)
    category = ada.category.get_absolute_url()
    first, second = Client().get(category), Client().get(category, {"page": 2})
    assert second.context["page"].number == 2 and first.text != second.text
    assert rendered(Client().get(category, {"page": 1, "ref": "x"})) == set()  # page 1's body

    settings.ALLOWED_HOSTS = ["testserver", "votes.example.org"]
    here = Client().get(ada.get_absolute_url())
    there = Client().get(ada.get_absolute_url(), HTTP_HOST="votes.example.org")
    assert rendered(there)
    assert "http://votes.example.org/" in there.text
    assert "http://votes.example.org/" not in here.text


def test_the_cache_keys_a_process_remembers_are_bounded(race, monkeypatch):
    monkeypatch.setattr(pages, "MAX_PAGE_KEYS", 5)
    for number in range(1, 20):
        Client().get(race[0].category.get_absolute_url(), {"page": number})
    assert 0 < len(pages.page_keys) <= 5


def test_an_admin_edit_of_a_nominee_shows_at_once(client, admin_client, race):
    ada = race[0]
    for path in PAGES:
        client.get(url(path, ada))
    admin_client.post(
        reverse("admin:awards_nominee_change", args=[ada.pk]),
        {
            "award": ada.award_id,
            "category": ada.category_id,
            "name": "Augusta Ada King",
            "slug": ada.slug,
            "audience_size": 0,
            "is_active": "on",
        },
    )
    for path in PAGES:
        assert "Augusta Ada King" in client.get(url(path, ada)).text, path


def test_a_nominee_hidden_in_the_admin_leaves_the_pages_at_once(
    client, admin_client, race, django_capture_on_commit_callbacks
):
    ada = race[0]
    assert client.get(url("/{award}/{nominee}/", ada)).status_code == 200
    assert "Ada Lovelace" in client.get(url("/{award}/categories/experts/", ada)).text
    chosen = {"action": "make_inactive", ACTION_CHECKBOX_NAME: [str(ada.pk)], "index": "0"}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:awards_nominee_changelist"), {**chosen, "post": "yes"})
    assert client.get(url("/{award}/{nominee}/", ada)).status_code == 404
    assert "Ada Lovelace" not in client.get(url("/{award}/categories/experts/", ada)).text


def test_a_nominee_added_a_moment_ago_can_be_voted_for_at_once(client, race):
    client.get(race[0].get_absolute_url())  # the award's nominees, now in this process's memory
    newcomer = NomineeFactory(category=race[0].category, name="Katherine Johnson")
    page = client.get(newcomer.get_absolute_url())
    assert page.status_code == 200
    assert form_of(page)["token"]


def test_an_admin_edit_of_the_award_shows_at_once(client, race):
    award = race[0].award
    client.get(url("/{award}/", race[0]))
    award.name = "Small Business Influencer Awards 2013"
    award.save()
    assert "Awards 2013" in client.get(url("/{award}/", race[0])).text


def test_two_voters_never_get_each_others_vote_box(race):
    ada = race[0]
    first, second = Client(), Client()
    vote_like_a_browser(ada, first, REMOTE_ADDR="198.51.100.20")
    mine = first.get(ada.get_absolute_url())
    theirs = second.get(ada.get_absolute_url())
    assert not rendered(theirs)  # the same cached page around both vote boxes
    assert "You've voted" in mine.text and "vote-form" not in mine.text
    assert "You've voted" not in theirs.text
    token = form_of(theirs)["token"]
    key = signed_voter_key(second)
    assert token_check(value=token, voter_key=key, nominee_id=ada.pk, now=timezone.now()).ok
    again = second.get(ada.get_absolute_url())
    assert form_of(again)["token"] != token


def test_votes_sent_from_a_cached_page_count(race):
    grace = race[1]
    Client().get(grace.get_absolute_url())  # in the cache from now on
    for address in ("198.51.100.31", "198.51.100.32", "2001:db8:7::1"):
        answer = vote_like_a_browser(
            grace, Client(), HTTP_ACCEPT="application/json", REMOTE_ADDR=address
        )
        assert answer.json()["outcome"] == "counted"


def test_each_visit_gets_its_own_channel_and_no_stand_ins(race):
    ada = race[0]
    shared = Client().get(ada.get_absolute_url(), {"ref": "twitter"})
    plain = Client().get(ada.get_absolute_url())
    again = Client().get(ada.get_absolute_url(), {"ref": "qr"})
    assert not rendered(plain) and not rendered(again)
    assert '<input type="hidden" name="ref" value="twitter">' in shared.text
    assert 'name="ref"' not in plain.text
    assert '<input type="hidden" name="ref" value="qr">' in again.text
    for page in (shared, plain, again):
        assert "laurel-standin" not in page.text
        assert form_of(page)["token"]


def test_the_nominee_page_is_never_kept_by_browsers_or_proxies(client, race):
    for _ in range(2):
        response = client.get(race[0].get_absolute_url())
        assert "no-store" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]


def test_a_cached_page_ends_when_voting_closes(client, race):
    award = race[0].award
    closes = timezone.now() + timedelta(seconds=3)
    award.voting_closes = closes
    award.save()
    assert "left</strong>" in client.get("/sbia/").text
    later = closes + timedelta(seconds=1)
    with (
        clock_at(later),
        mock.patch("voting.standings.pages.time.time", return_value=later.timestamp()),
    ):
        page = client.get("/sbia/")
    assert rendered(page)
    assert "Voting closed" in page.text


def test_html_is_gzipped_for_browsers_that_accept_it(client, race):
    for path in ("/{award}/", "/{award}/{nominee}/", "/api/{award}/standings/"):
        plain = client.get(url(path, race[0]))
        packed = client.get(url(path, race[0]), HTTP_ACCEPT_ENCODING="gzip, br")
        assert packed["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed["Vary"]
        body = gzip.decompress(packed.content).decode()
        assert race[0].name in body
        if not path.startswith("/api/"):
            assert len(packed.content) < len(plain.content) / 2


@pytest.mark.skipif(not settings.REAL_MODE, reason="embedded mode serves static/ as it is")
def test_static_files_have_hashed_names_compressed_copies_and_long_lives(client, race):
    page = client.get("/sbia/").text
    stylesheet = re.search(r'href="(/static/css/laurel\.[0-9a-f]{12}\.css)"', page).group(1)
    response = client.get(stylesheet, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 365 * 86400


def signed_voter_key(client: Client) -> str:
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE_NAME] = client.cookies[COOKIE_NAME].value
    return voter_cookie_read(request).key
