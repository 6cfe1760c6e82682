"""The voter: a long-lived signed cookie naming a browser, plus its address. No personal data."""

import secrets
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from .net import client_ip

COOKIE_NAME = "laurel_voter"
COOKIE_SALT = "laurel.voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 400  # browsers cap cookie lifetimes at 400 days


@dataclass(frozen=True)
class Voter:
    key: str
    ip: str
    user_agent: str


def _new_key() -> str:
    return secrets.token_hex(16)


def voter_key(request: HttpRequest) -> str:
    """The browser's voter key, minting one (set on the response by VoterCookieMiddleware)."""
    key = getattr(request, "_laurel_voter_key", None)
    if key is None:
        key = request.get_signed_cookie(COOKIE_NAME, default=None, salt=COOKIE_SALT)
        if not key or len(key) != 32:
            key = _new_key()
            request._laurel_voter_key_is_new = True
        request._laurel_voter_key = key
    return key


def voter_from(request: HttpRequest) -> Voter:
    return Voter(
        key=voter_key(request),
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


class VoterCookieMiddleware:
    """Sets the voter cookie on responses to requests that minted a new voter key."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "_laurel_voter_key_is_new", False):
            response.set_signed_cookie(
                COOKIE_NAME,
                request._laurel_voter_key,
                salt=COOKIE_SALT,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
