"""The vote endpoint reads a nominee and its award's rules from memory, and checks every few seconds
that the catalogue has not changed."""

import time
from unittest import mock

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awards.lookups import forget_cached_nominees, nominee_for_voting
from awards.models import Nominee
from tests.ballots import READING_TIME, clock_at, solved_form, vote_like_a_browser
from tests.factories import NomineeFactory
from voting.models import Vote

pytestmark = pytest.mark.django_db


def test_repeated_votes_for_one_nominee_look_it_up_once(client, nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    url = nominee.get_absolute_url() + "vote/"
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        client.post(url, fields)
        with CaptureQueriesContext(connection) as queries:
            client.post(url, fields, REMOTE_ADDR="192.0.2.44")
    assert not [q for q in queries if '"awards_nominee"' in q["sql"]]
    assert Vote.objects.count() == 1  # the second was the same voter: refused by the database


def test_a_zero_ttl_reads_the_database_every_time(nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    nominee_for_voting("sbia", "ada-lovelace")
    Nominee.objects.filter(pk=nominee.pk).update(name="Ada King")
    assert nominee_for_voting("sbia", "ada-lovelace").name == "Ada King"


def test_an_edit_shows_once_the_entry_expires(nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    assert nominee_for_voting("sbia", "ada-lovelace").name == "Ada Lovelace"
    Nominee.objects.filter(pk=nominee.pk).update(is_active=False)
    assert nominee_for_voting("sbia", "ada-lovelace").name == "Ada Lovelace"
    forget_cached_nominees()
    with pytest.raises(Http404):
        nominee_for_voting("sbia", "ada-lovelace")


def test_a_new_nominee_can_be_voted_for_once_the_entry_expires(client, nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    assert client.post("/sbia/not-yet/vote/").status_code == 404
    NomineeFactory(category=nominee.category, slug="not-yet")
    forget_cached_nominees()
    assert vote_like_a_browser(Nominee.objects.get(slug="not-yet"), client).status_code == 200


def test_one_query_serves_every_nominee_of_an_award(nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    others = NomineeFactory.create_batch(20, category=nominee.category)
    nominee_for_voting("sbia", nominee.slug)
    with CaptureQueriesContext(connection) as queries:
        for other in others:
            assert nominee_for_voting("sbia", other.slug).award.slug == "sbia"
            assert nominee_for_voting("sbia", other.slug).category.name == "Experts"
    assert len(queries) == 0


def test_unknown_awards_and_nominees_are_404s(nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    with pytest.raises(Http404):
        nominee_for_voting("nope", "ada-lovelace")
    with pytest.raises(Http404):
        nominee_for_voting("sbia", "nobody")


def later(seconds: float):
    """time.monotonic as it will read `seconds` from now, for the catalogue's expiry."""
    return mock.patch("awards.lookups.time.monotonic", return_value=time.monotonic() + seconds)


def test_an_expired_entry_is_kept_while_the_catalogue_is_unchanged(nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 5
    first = nominee_for_voting("sbia", "ada-lovelace")
    with later(60), CaptureQueriesContext(connection) as queries:
        assert nominee_for_voting("sbia", "ada-lovelace") is first
    assert not [q for q in queries if '"awards_nominee"' in q["sql"]]


def test_an_expired_entry_is_loaded_again_once_the_catalogue_changed(nominee, settings):
    settings.CATALOGUE_CACHE_SECONDS = 5
    nominee_for_voting("sbia", "ada-lovelace")
    nominee.name = "Ada King"
    nominee.save()  # as the admin does
    assert nominee_for_voting("sbia", "ada-lovelace").name == "Ada Lovelace"  # not yet expired
    with later(60):
        assert nominee_for_voting("sbia", "ada-lovelace").name == "Ada King"
