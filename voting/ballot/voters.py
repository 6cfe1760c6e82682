"""The voter: a long-lived signed cookie naming a browser, plus its address. No personal data.

`request.voter` (set by VoterCookieMiddleware, lazily, as `request.user` is) is the browser's
cookie: read from the request, or minted on first use, in which case the response sets it.
Whether a voter is new or returning is not read from the cookie: a voter returns only once the
database holds a vote it counted (voting.ballot.services.voter_is_returning). The cookie's
signed mint time only tells the server when no such vote can exist yet.
"""

import secrets
import time
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from django_ratelimit.core import get_usage

from laurel.lib.net import client_networks
from voting.vocabulary import Voter

COOKIE_NAME = "laurel_voter"
COOKIE_SALT = "laurel.voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 400  # browsers cap cookie lifetimes at 400 days
# New cookies one address (IPv4, IPv6 /64) and one network may be given in an hour. Generous,
# since a carrier's NAT mints thousands of honest cookies a day; a cookie farm needs far more,
# and a farmed cookie is a new voter anyway until one of its votes has counted.
MINTS_PER_HOUR = {"address": 600, "/24": 2400, "/56": 2400, "/48": 4800}
MINT_GROUP = "laurel.voter-mint"


@dataclass(frozen=True)
class VoterCookie:
    key: str
    minted_at: int  # unix seconds; 0 for cookies older than the field
    # Minted by this request: its response sets the cookie.
    new: bool = False
    # Seconds to wait: this browser has no cookie, and its address or network was given too
    # many this hour. Its key is a throwaway that is never sent.
    mint_refused: int | None = None


def voter_cookie_read(request: HttpRequest) -> VoterCookie | None:
    """The browser's signed cookie, if it sent a good one; cookies from before the mint time
    count as old."""
    value = request.get_signed_cookie(COOKIE_NAME, default=None, salt=COOKIE_SALT)
    if not value:
        return None
    key, _, minted = value.partition(".")
    if len(key) != 32 or (minted and not minted.isdigit()):
        return None
    return VoterCookie(key, int(minted or 0))


def voter_cookie(request: HttpRequest) -> VoterCookie:
    """The cookie the browser sent, or a new one, unless its network has had too many."""
    found = voter_cookie_read(request)
    if found is not None:
        return found
    key, now = secrets.token_hex(16), int(time.time())
    refused = _mint_refused(request)
    return VoterCookie(key, now, new=refused is None, mint_refused=refused)


def voter_known(request: HttpRequest) -> bool:
    """Whether the request carries a voter cookie (read-only endpoints never mint one)."""
    return voter_cookie_read(request) is not None


def _mint_refused(request: HttpRequest) -> int | None:
    # django-ratelimit's fixed windows, one per address and one per wider network. The wider
    # networks are counted only for an address still under its own bound, so that one address
    # refused does not use up its neighbours' share.
    networks = client_networks(request)
    bounds = [(networks.address, MINTS_PER_HOUR["address"])]
    bounds += [(net, MINTS_PER_HOUR[net[net.rfind("/") :]]) for net in networks.wider]
    for value, cap in bounds:
        usage = get_usage(
            request,
            group=MINT_GROUP,
            key=lambda group, request, value=value: value,
            rate=f"{cap}/h",
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            return max(1, usage["time_left"])
    return None


def voter_from(request: HttpRequest) -> Voter:
    networks = client_networks(request)
    return Voter(
        key=request.voter.key,
        ip=networks.address,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        network=networks.network,
        wider=networks.wider,
        minted_at=request.voter.minted_at,
    )


class VoterCookieMiddleware:
    """`request.voter`, read or minted when first used; a minted one is set on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        minted: list[VoterCookie] = []

        def first_use() -> VoterCookie:
            cookie = voter_cookie(request)
            if cookie.new:
                minted.append(cookie)
            return cookie

        request.voter = SimpleLazyObject(first_use)
        response = self.get_response(request)
        for cookie in minted:
            response.set_signed_cookie(
                COOKIE_NAME,
                f"{cookie.key}.{cookie.minted_at}",
                salt=COOKIE_SALT,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
