"""The vote form's CSRF token, minted with one draw of randomness, is Django's own: the
middleware sets its cookie and accepts it, and a browser keeps the secret it has."""

import html
import re
from collections import Counter
from unittest import mock

import pytest
from django.conf import settings
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CSRF_TOKEN_LENGTH,
    _unmask_cipher_token,
)
from django.test import Client, RequestFactory
from django.utils import timezone

from awards.csrf import csrf_token, random_chars
from tests.ballots import READING_TIME, clock_at, solved_form
from voting.models import Vote

pytestmark = pytest.mark.django_db
FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def form_token(page) -> str:
    return html.unescape(FORM_TOKEN.search(page.content.decode()).group(1))


@pytest.mark.parametrize("page_cache_seconds", [0, 10])
def test_a_first_visit_gets_a_csrf_cookie_and_a_form_token_the_vote_is_accepted_with(
    nominee, settings, page_cache_seconds
):
    settings.PAGE_CACHE_SECONDS = page_cache_seconds
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(nominee.get_absolute_url())
    secret = page.cookies[settings.CSRF_COOKIE_NAME].value
    token = form_token(page)
    assert len(secret) == CSRF_SECRET_LENGTH and len(token) == CSRF_TOKEN_LENGTH
    assert _unmask_cipher_token(token) == secret
    assert "Cookie" in page["Vary"]
    fields = {"csrfmiddlewaretoken": token, **solved_form(page)}
    with clock_at(timezone.now() + READING_TIME):
        response = browser.post(f"{nominee.get_absolute_url()}vote/", fields)
    assert response.status_code == 303
    assert Vote.objects.count() == 1


def test_a_browser_keeps_its_csrf_secret_and_gets_a_freshly_masked_token_each_time(nominee):
    browser = Client(enforce_csrf_checks=True)
    first = browser.get(nominee.get_absolute_url())
    secret = first.cookies[settings.CSRF_COOKIE_NAME].value
    tokens = {form_token(first), form_token(browser.get(nominee.get_absolute_url()))}
    assert len(tokens) == 2
    assert {_unmask_cipher_token(token) for token in tokens} == {secret}
    assert browser.cookies[settings.CSRF_COOKIE_NAME].value == secret


def test_a_forged_csrf_token_is_refused(nominee):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(nominee.get_absolute_url())
    token = form_token(page)
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    response = browser.post(f"{nominee.get_absolute_url()}vote/", {"csrfmiddlewaretoken": forged})
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_csrf_token_marks_the_cookie_to_be_sent_as_get_token_does():
    request = RequestFactory().get("/")
    token = csrf_token(request)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert set(token) <= set(CSRF_ALLOWED_CHARS)


def test_every_character_is_equally_likely():
    counts = Counter(random_chars(62 * 2000))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # 2000 expected each; a fair draw stays well within +-10%.
    assert min(counts.values()) > 1800 and max(counts.values()) < 2200


def test_bytes_that_would_favour_some_characters_are_drawn_again():
    draws = iter([bytes([255, 248, 61, 200]), bytes([1, 2, 3, 4, 5])])
    with mock.patch("awards.csrf.os.urandom", side_effect=lambda n: next(draws)):
        assert random_chars(3) == CSRF_ALLOWED_CHARS[61] + CSRF_ALLOWED_CHARS[200 % 62] + "b"


@pytest.mark.parametrize("secret", ["z" * 32, "9" * 32, "a" * 32, CSRF_ALLOWED_CHARS[:32], None])
def test_the_masked_token_is_djangos_masking_of_the_secret_whatever_the_characters(secret):
    for _ in range(200):
        request = RequestFactory().get("/")
        if secret:
            request.META["CSRF_COOKIE"] = secret
        token = csrf_token(request)
        assert len(token) == CSRF_TOKEN_LENGTH
        assert _mask_cipher_secret_with(request.META["CSRF_COOKIE"], token[:32]) == token
        assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


def _mask_cipher_secret_with(secret: str, mask: str) -> str:
    # django.middleware.csrf._mask_cipher_secret, with the mask given.
    chars = CSRF_ALLOWED_CHARS
    pairs = zip((chars.index(x) for x in secret), (chars.index(x) for x in mask), strict=True)
    return mask + "".join(chars[(x + y) % len(chars)] for x, y in pairs)
