"""Cross-site votes: the one-time token, bound to the voter's cookie and the nominee, is the vote
form's synchronizer token, and the browser's word on where a vote came from is checked too. A
first visit needs no CSRF cookie; every other form keeps Django's CSRF protection."""

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.ballots import READING_TIME, clock_at, solved_form
from voting.ballot.tokens import token_check, token_issue
from voting.ballot.voters import COOKIE_NAME, COOKIE_SALT
from voting.models import Vote

pytestmark = pytest.mark.django_db


def vote_url(nominee) -> str:
    return nominee.get_absolute_url() + "vote/"


@pytest.mark.parametrize("page_cache_seconds", [0, 10])
def test_a_first_visit_gets_no_csrf_cookie_and_its_vote_counts(
    nominee, settings, page_cache_seconds
):
    settings.PAGE_CACHE_SECONDS = page_cache_seconds
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(nominee.get_absolute_url())
    assert settings.CSRF_COOKIE_NAME not in page.cookies
    assert "csrfmiddlewaretoken" not in page.text
    with clock_at(timezone.now() + READING_TIME):
        response = browser.post(
            vote_url(nominee), solved_form(page), HTTP_ORIGIN="http://testserver"
        )
    assert response.status_code == 303
    assert Vote.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
    ],
)
def test_a_vote_sent_from_another_site_is_refused_and_records_nothing(nominee, headers):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(nominee.get_absolute_url())
    with clock_at(timezone.now() + READING_TIME):
        response = browser.post(vote_url(nominee), solved_form(page), **headers)
    assert response.status_code == 403
    assert "Nothing was recorded" in response.text
    assert not Vote.objects.exists()


def test_a_vote_from_another_site_gets_json_when_it_asks_for_it(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    response = browser.post(
        vote_url(nominee),
        solved_form(page),
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403
    assert "Nothing was recorded" in response.json()["error"]
    assert not Vote.objects.exists()


def test_an_https_vote_whose_referer_is_another_site_is_refused(nominee):
    browser = Client()
    page = browser.get(nominee.get_absolute_url(), secure=True)
    with clock_at(timezone.now() + READING_TIME):
        response = browser.post(
            vote_url(nominee),
            solved_form(page),
            secure=True,
            HTTP_REFERER="https://evil.example/page",
        )
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_a_vote_from_a_trusted_origin_counts(nominee, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://vote.example.org"]
    browser = Client()
    page = browser.get(nominee.get_absolute_url())
    with clock_at(timezone.now() + READING_TIME):
        response = browser.post(
            vote_url(nominee), solved_form(page), HTTP_ORIGIN="https://vote.example.org"
        )
    assert response.status_code == 303
    assert Vote.objects.count() == 1


def test_a_post_without_a_vote_token_still_needs_djangos_csrf_token(nominee):
    browser = Client(enforce_csrf_checks=True)
    browser.get(nominee.get_absolute_url())
    response = browser.post(vote_url(nominee), {"ref": "twitter"})
    assert response.status_code == 403
    assert "Nothing was recorded" in response.text
    assert not Vote.objects.exists()


def test_other_forms_keep_djangos_csrf_protection(client, settings):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"/{settings.ADMIN_URL}login/", {"username": "a", "password": "b"})
    assert response.status_code == 403


def test_the_first_visits_voter_cookie_is_djangos_signed_cookie(nominee):
    page = Client().get(nominee.get_absolute_url())
    morsel = page.cookies[COOKIE_NAME]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert morsel["max-age"] == 60 * 60 * 24 * 400
    request = RequestFactory().get("/", HTTP_COOKIE=f"{COOKIE_NAME}={morsel.value}")
    key, _, minted = request.get_signed_cookie(COOKIE_NAME, salt=COOKIE_SALT).partition(".")
    assert len(key) == 32 and minted.isdigit()


def test_a_voter_cookie_signed_before_the_secret_key_changed_still_reads(nominee, settings):
    page = Client().get(nominee.get_absolute_url())
    cookie = page.cookies[COOKIE_NAME].value
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-0123456789abcdef"
    request = RequestFactory().get("/", HTTP_COOKIE=f"{COOKIE_NAME}={cookie}")
    assert request.get_signed_cookie(COOKIE_NAME, salt=COOKIE_SALT)


def test_a_vote_token_issued_before_the_secret_key_changed_still_checks(nominee, settings):
    now = timezone.now()
    token = token_issue(voter_key="a" * 32, nominee_id=nominee.pk, now=now)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-0123456789abcdef"
    assert token_check(value=token.value, voter_key="a" * 32, nominee_id=nominee.pk, now=now).ok
    settings.SECRET_KEY_FALLBACKS = []
    assert not token_check(value=token.value, voter_key="a" * 32, nominee_id=nominee.pk, now=now).ok


def test_a_vote_token_does_not_show_the_voters_cookie_key(nominee):
    token = token_issue(voter_key="a" * 32, nominee_id=nominee.pk, now=timezone.now())
    assert "a" * 32 not in token.value


def test_a_forged_session_cookie_is_no_session_rather_than_an_error(client, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "abc\x00def"
    response = client.get(f"/{settings.ADMIN_URL}login/")
    assert response.status_code == 200
