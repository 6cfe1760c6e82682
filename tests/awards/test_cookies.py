"""The first visit's cookies and signatures, written for less, are exactly Django's: the same
Set-Cookie lines, signatures Django reads back, and cookies that change like any other."""

import pytest
from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.test import Client, RequestFactory

from awards.cookies import WrittenMorsel, cookie_set
from awards.signing import cookie_signed, signed
from voting.ballot.tokens import token_check, token_issue
from voting.ballot.voters import COOKIE_NAME, COOKIE_SALT

ATTRIBUTES = [
    {"max_age": 60 * 60 * 24 * 400, "httponly": True, "samesite": "Lax", "secure": True},
    {"max_age": 60 * 60 * 24 * 400, "httponly": True, "samesite": "Lax", "secure": False},
    {"max_age": 31449600, "path": "/", "domain": None, "samesite": "Lax"},
    {"max_age": 60, "path": "/vote/", "domain": "example.org", "samesite": "Strict"},
    {"max_age": 0, "samesite": None},
]


@pytest.mark.parametrize("attributes", ATTRIBUTES)
@pytest.mark.parametrize(
    "value", ["abc.123:1xWXIt:smh6PhR8tl4w4", "A" * 32, 'needs "quotes"; here']
)
def test_a_cookie_set_for_less_is_the_same_set_cookie_line_as_djangos(attributes, value):
    djangos, ours = HttpResponse(), HttpResponse()
    djangos.set_cookie("laurel_test", value, **attributes)
    cookie_set(ours, "laurel_test", value, **attributes)
    assert ours.cookies.output() == djangos.cookies.output()
    assert dict(ours.cookies["laurel_test"]) == dict(djangos.cookies["laurel_test"])
    assert ours.cookies["laurel_test"].value == value


def test_a_cookie_changed_after_it_was_set_is_written_with_the_change():
    response = HttpResponse()
    cookie_set(response, "laurel_test", "abc", max_age=60, httponly=True, samesite="Lax")
    assert isinstance(response.cookies["laurel_test"], WrittenMorsel)
    response.cookies["laurel_test"]["path"] = "/elsewhere/"
    assert "Path=/elsewhere/" in response.cookies.output()
    response.set_cookie("laurel_test", "replaced", max_age=5)
    assert "laurel_test=replaced;" in response.cookies.output()
    assert "Max-Age=5" in response.cookies.output()


def test_a_cookie_signed_for_less_is_read_back_by_django_and_equals_set_signed_cookie():
    djangos = HttpResponse()
    djangos.set_signed_cookie(COOKIE_NAME, "key.1700000000", salt=COOKIE_SALT)
    value = cookie_signed(COOKIE_NAME, "key.1700000000", salt=COOKIE_SALT)
    assert value == djangos.cookies[COOKIE_NAME].value  # unless the second turned in between
    request = RequestFactory().get("/", HTTP_COOKIE=f"{COOKIE_NAME}={value}")
    assert request.get_signed_cookie(COOKIE_NAME, salt=COOKIE_SALT) == "key.1700000000"
    with pytest.raises(signing.BadSignature):
        request.get_signed_cookie(COOKIE_NAME, salt="another salt")


def test_a_cookie_signed_before_the_secret_key_changed_is_read_through_the_fallback_keys(
    settings,
):
    old = settings.SECRET_KEY
    value = cookie_signed(COOKIE_NAME, "key.1", salt=COOKIE_SALT)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "x" * 40, [old]
    request = RequestFactory().get("/", HTTP_COOKIE=f"{COOKIE_NAME}={value}")
    assert request.get_signed_cookie(COOKIE_NAME, salt=COOKIE_SALT) == "key.1"
    # And a new cookie is signed with the new key, not the one derived for the old.
    assert cookie_signed(COOKIE_NAME, "key.1", salt=COOKIE_SALT) != value
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.BadSignature):
        request.get_signed_cookie(COOKIE_NAME, salt=COOKIE_SALT)


def test_a_value_signed_for_less_is_djangos_signature_and_unsigns():
    assert signed("7.nonce.1700000000000", salt="s:k") == signing.Signer(salt="s:k").sign(
        "7.nonce.1700000000000"
    )
    assert signing.Signer(salt="s:k").unsign(signed("v", salt="s:k")) == "v"


def test_a_vote_token_checks_for_its_voter_only(nominee):
    from django.utils import timezone

    now = timezone.now()
    token = token_issue(voter_key="a" * 32, nominee_id=nominee.pk, now=now)
    mine = token_check(value=token.value, voter_key="a" * 32, nominee_id=nominee.pk, now=now)
    theirs = token_check(value=token.value, voter_key="b" * 32, nominee_id=nominee.pk, now=now)
    assert mine.ok and mine.nonce == token.nonce
    assert not theirs.ok


@pytest.mark.django_db
@pytest.mark.parametrize("secure", [False, True])
def test_a_first_visit_is_sent_djangos_csrf_cookie_line_and_vary_cookie_once(
    nominee, settings, secure
):
    settings.CSRF_COOKIE_SECURE = secure
    page = Client().get(nominee.get_absolute_url())
    expected = HttpResponse()
    expected.set_cookie(
        settings.CSRF_COOKIE_NAME,
        page.cookies[settings.CSRF_COOKIE_NAME].value,
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=settings.CSRF_COOKIE_SECURE,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
    sent = page.cookies[settings.CSRF_COOKIE_NAME].OutputString()
    assert sent == expected.cookies[settings.CSRF_COOKIE_NAME].OutputString()
    assert [name.strip() for name in page["Vary"].split(",")].count("Cookie") == 1


@pytest.mark.django_db
def test_a_page_that_mints_a_csrf_token_without_saying_vary_cookie_gets_it(client):
    # The organizers' login page: Django's get_token(), and no Vary of its own.
    response = client.get(f"/{settings.ADMIN_URL}login/")
    assert settings.CSRF_COOKIE_NAME in response.cookies
    assert "Cookie" in [name.strip() for name in response["Vary"].split(",")]


@pytest.mark.django_db
def test_the_first_visits_voter_cookie_is_djangos_signed_cookie(nominee):
    page = Client().get(nominee.get_absolute_url())
    morsel = page.cookies[COOKIE_NAME]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert morsel["max-age"] == 60 * 60 * 24 * 400
    request = RequestFactory().get("/", HTTP_COOKIE=f"{COOKIE_NAME}={morsel.value}")
    key, _, minted = request.get_signed_cookie(COOKIE_NAME, salt=COOKIE_SALT).partition(".")
    assert len(key) == 32 and minted.isdigit()
