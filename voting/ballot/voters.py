"""The voter: a long-lived signed cookie naming a browser, plus its address. No personal data.

Whether a voter is new or returning is not read from the cookie: a voter returns only once the
database holds a vote it counted (voting.ballot.services.voter_is_returning). The cookie's signed mint
time only tells the server when no such vote can exist yet.
"""

import secrets
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from awards.cookies import cookie_set
from awards.signing import cookie_signed
from laurel.lib.net import client_networks
from voting.integrity.limits import Kind, LimitsUnavailable, Op, limits_hit
from voting.vocabulary import Voter

COOKIE_NAME = "laurel_voter"
COOKIE_SALT = "laurel.voter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 400  # browsers cap cookie lifetimes at 400 days
# New cookies one address (IPv4, IPv6 /64) and one network may be given in an hour. Generous,
# since a carrier's NAT mints thousands of honest cookies a day; a cookie farm needs far more,
# and a farmed cookie is a new voter anyway until one of its votes has counted.
MINTS_PER_HOUR = {"address": 600, "/24": 2400, "/56": 2400, "/48": 4800}
MINT_WINDOW = 3600


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


def voter_known(request: HttpRequest) -> bool:
    """Whether the request carries a voter cookie (read-only endpoints never mint one)."""
    return getattr(request, "_laurel_voter_key", None) is not None or (
        _read_cookie(request) is not None
    )


def voter_mint_refused(request: HttpRequest) -> int | None:
    """Seconds to wait when this browser needs a voter key but its address or network has been
    given too many new ones this hour; None when it has one or may have one."""
    voter_key(request)
    return getattr(request, "_laurel_voter_mint_refused", None)


def voter_key(request: HttpRequest) -> str:
    """The browser's voter key, minting one (set on the response by VoterCookieMiddleware)."""
    key = getattr(request, "_laurel_voter_key", None)
    if key is None:
        found = _read_cookie(request)
        if found is None:
            found = (_new_key(), int(time.time()))
            refused = _mint_refused(request, found[1])
            if refused is None:
                request._laurel_voter_key_is_new = True
            else:
                request._laurel_voter_mint_refused = refused
        key, request._laurel_voter_minted = found
        request._laurel_voter_key = key
    return key


def _mint_refused(request: HttpRequest, now: int) -> int | None:
    if not settings.RATELIMIT_ENABLE:
        return None
    networks = client_networks(request)
    ops = [Op(Kind.CAP, f"mint:{networks.address}", MINT_WINDOW, MINTS_PER_HOUR["address"])]
    for net in networks.wider:
        cap = MINTS_PER_HOUR.get(net[net.rfind("/") :], MINTS_PER_HOUR["/24"])
        ops.append(Op(Kind.CAP, f"mint:{net}", MINT_WINDOW, cap))
    try:
        hit = limits_hit(ops, now=now)
    except LimitsUnavailable:
        # Every vote is held for re-assessment while the limit store is down, so a cookie
        # minted meanwhile gains nothing that the re-assessment does not check.
        return None
    return hit.retry_after if hit.blocked is not None else None


def voter_from(request: HttpRequest) -> Voter:
    key = voter_key(request)
    networks = client_networks(request)
    return Voter(
        key=key,
        ip=networks.address,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        network=networks.network,
        wider=networks.wider,
        minted_at=request._laurel_voter_minted,
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
