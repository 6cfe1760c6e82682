"""The voter: a long-lived signed cookie naming a browser, plus its address. No personal data."""

import secrets
import time
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from awards.cookies import cookie_set
from awards.signing import cookie_signed

from .net import client_networks

COOKIE_NAME = "laurel_voter"
COOKIE_SALT = "laurel.voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 400  # browsers cap cookie lifetimes at 400 days
# A cookie minted less than a day ago is a new voter: every first vote, and every vote of a
# script that clears its cookies. The integrity signals count new voters only.
NEW_VOTER_SECONDS = 60 * 60 * 24


@dataclass(frozen=True)
class Voter:
    key: str
    ip: str
    user_agent: str
    # The widest network counted for this address (IPv4 /24, IPv6 /48), stored on votes.
    network: str = ""
    # Every wider network the caps and signals count (IPv4 /24; IPv6 /56 and /48).
    wider: tuple[str, ...] = ()
    new: bool = False


def _new_key() -> str:
    return secrets.token_hex(16)


def _read_cookie(request: HttpRequest) -> tuple[str, int] | None:
    """(key, minted at) from the signed cookie; cookies from before the mint time count as old."""
    value = request.get_signed_cookie(COOKIE_NAME, default=None, salt=COOKIE_SALT)
    if not value:
        return None
    key, _, minted = value.partition(".")
    if len(key) != 32 or (minted and not minted.isdigit()):
        return None
    return key, int(minted or 0)


def voter_key(request: HttpRequest) -> str:
    """The browser's voter key, minting one (set on the response by VoterCookieMiddleware)."""
    key = getattr(request, "_laurel_voter_key", None)
    if key is None:
        found = _read_cookie(request)
        if found is None:
            found = (_new_key(), int(time.time()))
            request._laurel_voter_key_is_new = True
        key, request._laurel_voter_minted = found
        request._laurel_voter_key = key
    return key


def voter_from(request: HttpRequest) -> Voter:
    key = voter_key(request)
    networks = client_networks(request)
    return Voter(
        key=key,
        ip=networks.address,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        network=networks.network,
        wider=networks.wider,
        new=time.time() - request._laurel_voter_minted < NEW_VOTER_SECONDS,
    )


class VoterCookieMiddleware:
    """Sets the voter cookie on responses to requests that minted a new voter key."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "_laurel_voter_key_is_new", False):
            # As response.set_signed_cookie(), for a fraction of its cost (awards/cookies.py).
            cookie_set(
                response,
                COOKIE_NAME,
                cookie_signed(
                    COOKIE_NAME,
                    f"{request._laurel_voter_key}.{request._laurel_voter_minted}",
                    salt=COOKIE_SALT,
                ),
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
