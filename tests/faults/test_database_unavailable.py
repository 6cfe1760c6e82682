"""A database that cannot be reached answers a clean 503 (page or JSON, Retry-After), never the
500 page; a bug in a query still is a 500. Both modes; tests/faults/test_postgres_restart.py
restarts a real server."""

from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def database_down(error: Exception | None = None):
    error = error or OperationalError("connection refused")
    return mock.patch.object(CursorWrapper, "execute", side_effect=error)


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)


def test_a_page_gets_the_styled_503_with_retry_after(browser, nominee):
    with database_down():
        response = browser.get(nominee.get_absolute_url())
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "no-store" in response["Cache-Control"]
    assert "Back in a moment" in response.text
    assert 'class="site-header"' in response.text  # the house page, not a bare error


def test_a_vote_from_javascript_gets_json_saying_nothing_was_counted(browser, nominee):
    page = browser.get(nominee.get_absolute_url())
    with database_down():
        response = browser.post(
            nominee.get_absolute_url() + "vote/",
            {"token": "t"},
            HTTP_ACCEPT="application/json",
        )
    assert response.status_code == 503
    assert page.status_code == 200
    payload = response.json()
    assert payload["outcome"] == "unavailable"
    assert payload["counted"] is False
    assert "Not recorded" in payload["html"]
    assert int(response["Retry-After"]) > 0


def test_the_json_api_answers_json(browser, nominee):
    with database_down():
        response = browser.get(f"/api/{nominee.award.slug}/standings/")
    assert response.status_code == 503
    assert response.json()["outcome"] == "unavailable"


def test_a_lost_connection_is_unavailable_too(browser, nominee):
    from django.db import InterfaceError

    with database_down(InterfaceError("connection already closed")):
        response = browser.get(nominee.get_absolute_url())
    assert response.status_code == 503


def test_it_leaves_other_database_errors_to_the_500_page(browser, nominee):
    with database_down(IntegrityError("a bug, not an outage")):
        response = browser.get(nominee.get_absolute_url())
    assert response.status_code == 500


def test_a_signed_in_organizer_gets_the_503_too(browser, nominee, organizer):
    # Their session lives in the database: reading it fails before any view runs.
    browser.force_login(organizer)
    for path in ("/", nominee.get_absolute_url(), reverse("admin:index")):
        with database_down():
            response = browser.get(path)
        assert response.status_code == 503, path
        assert "Back in a moment" in response.text
