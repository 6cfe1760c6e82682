"""What a voter is told on every later view matches what happened to their vote."""

import pytest
from django.test import Client

from tests.ballots import form_of
from voting.integrity.holds import votes_set_status
from voting.models import Vote

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_a_vote_held_as_it_was_cast_says_it_is_being_checked_on_every_later_view(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    # A click as the page appears, without the browser check: recorded and held.
    answer = browser.post(nominee.get_absolute_url() + "vote/", form_of(page), HTTP_ACCEPT=JSON)
    assert answer.status_code == 202
    for _ in range(2):
        again = browser.get(nominee.get_absolute_url())
        assert "is being checked" in again.text
        assert "You've voted" not in again.text
        # The page's rank line is everyone's; the stylesheet hides its call to vote first.
        assert 'data-outcome="held"' in again.text


def test_a_held_vote_that_passes_its_check_then_says_it_counts(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    browser.post(nominee.get_absolute_url() + "vote/", form_of(page), HTTP_ACCEPT=JSON)
    votes_set_status(vote_ids=[Vote.objects.get().pk], status="counted", reason="manual")
    again = browser.get(nominee.get_absolute_url())
    assert "is being checked" not in again.text
    assert "You've voted" in again.text
