"""The one-time vote token: every form carries one; a missing, expired, foreign or used one counts
nothing and asks the voter to confirm with a fresh form."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from awards.models import Award
from tests.ballots import READING_TIME, clock_at, form_of, solved_form, vote_like_a_browser
from voting.ballot.tokens import TokenStatus, token_check, token_issue
from voting.models import Vote

pytestmark = pytest.mark.django_db


def vote_url(nominee) -> str:
    return nominee.get_absolute_url() + "vote/"


def test_every_rendered_form_carries_its_own_token(client, nominee):
    first = form_of(client.get(nominee.get_absolute_url()))["token"]
    second = form_of(client.get(nominee.get_absolute_url()))["token"]
    assert first != second


def test_a_token_is_bound_to_the_voter_and_the_nominee(nominee):
    now = timezone.now()
    token = token_issue(voter_key="a" * 32, nominee_id=nominee.pk, now=now)
    assert token_check(value=token.value, voter_key="a" * 32, nominee_id=nominee.pk, now=now).ok
    other_voter = token_check(value=token.value, voter_key="b" * 32, nominee_id=nominee.pk, now=now)
    other_nominee = token_check(value=token.value, voter_key="a" * 32, nominee_id=0, now=now)
    assert other_voter.status is TokenStatus.FOREIGN
    assert other_nominee.status is TokenStatus.FOREIGN
    later = now + timedelta(hours=3)
    assert (
        token_check(value=token.value, voter_key="a" * 32, nominee_id=nominee.pk, now=later).status
        is TokenStatus.EXPIRED
    )


def test_a_vote_without_a_token_counts_nothing_and_offers_a_fresh_form(client, nominee):
    client.get(nominee.get_absolute_url())
    response = client.post(vote_url(nominee), follow=True)
    assert "Please confirm your vote: it has not been counted yet." in response.text
    assert "Confirm my vote for Ada Lovelace" in response.text
    assert 'name="token"' in response.text
    assert not Vote.objects.exists()


def test_the_confirmation_form_then_counts(client, nominee):
    client.get(nominee.get_absolute_url())
    refused = client.post(vote_url(nominee), follow=True)
    with clock_at(timezone.now() + READING_TIME):
        response = client.post(vote_url(nominee), solved_form(refused), follow=True)
    assert 'data-outcome="counted"' in response.text.split("<template")[0]
    assert Vote.objects.filter(status="counted").count() == 1


def test_an_expired_token_says_the_page_was_open_too_long(client, nominee):
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + timedelta(hours=3)):
        response = client.post(vote_url(nominee), fields, follow=True)
    assert 'data-outcome="confirm"' in response.text
    assert "This page was open for a long time" in response.text
    assert not Vote.objects.exists()


def test_a_token_copied_into_another_browser_is_foreign(nominee):
    fields = solved_form(Client().get(nominee.get_absolute_url()))
    other = Client()
    other.get(nominee.get_absolute_url())
    with clock_at(timezone.now() + READING_TIME):
        response = other.post(vote_url(nominee), fields, follow=True)
    assert 'data-outcome="confirm"' in response.text
    assert not Vote.objects.exists()


def test_a_replayed_request_counts_nothing_even_once_the_interval_has_passed(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(vote_interval=timedelta(minutes=1))
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        first = client.post(vote_url(nominee), fields, follow=True)
    assert 'data-outcome="counted"' in first.text.split("<template")[0]
    with clock_at(timezone.now() + timedelta(minutes=5)):
        replay = client.post(vote_url(nominee), fields, HTTP_ACCEPT="application/json")
    assert replay.status_code == 403
    assert replay.json()["outcome"] == "confirm"
    assert Vote.objects.count() == 1


def test_a_replay_from_other_addresses_counts_nothing(client, nominee):
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        statuses = [
            client.post(
                vote_url(nominee),
                fields,
                REMOTE_ADDR=f"198.51.100.{i}",
                HTTP_ACCEPT="application/json",
            ).status_code
            for i in range(1, 6)
        ]
    assert statuses == [200, 409, 409, 409, 409]
    assert Vote.objects.count() == 1


def test_the_json_confirm_answer_carries_a_fresh_form(client, nominee):
    client.get(nominee.get_absolute_url())
    response = client.post(vote_url(nominee), HTTP_ACCEPT="application/json")
    data = json.loads(response.content)
    assert (response.status_code, data["outcome"], data["counted"]) == (403, "confirm", False)
    assert 'name="token"' in data["html"] and "<altcha-widget" in data["html"]


def test_a_held_vote_is_explained_without_revealing_thresholds(nominee):
    Award.objects.filter(pk=nominee.award_id).update(min_seconds_on_page=30)
    response = vote_like_a_browser(nominee, javascript=False)
    assert 'data-outcome="held"' in response.text
    assert "is being checked" in response.text
    assert "there is nothing more to do" in response.text
    explained = response.text.split("is being checked")[1].split("</p>\n<p")[1].split("</p>")[0]
    assert "30" not in explained
    assert "too_fast" not in response.text and "fast" not in explained
    assert Vote.objects.get().status == "quarantined"
