"""Django's CSRF token for a form rendered once per visitor, drawn with one system call.

`django.middleware.csrf.get_token()` draws the secret and its mask (64 characters) with
`secrets.choice`, one `getrandom()` each: about 0.18 ms here, the largest part of a cached
nominee page's cost for a first-time visitor (every voter arriving from a shared link).
`csrf_token()` returns the same thing, a masked token for the request's secret, from one
`os.urandom()` call, and hands a new secret to CsrfViewMiddleware the way `get_token()` does
(through `request.META`), so the middleware sets the cookie and checks the form unchanged.
"""

import functools
import os

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.cache import has_vary_header, patch_vary_headers

from awards.cookies import cookie_set

_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {char: i for i, char in enumerate(_CHARS)}
# A random byte below 248 (4 x 62) becomes the character at its value modulo 62; the others are
# dropped and drawn again, so that every character is equally likely.
_BYTE_LIMIT = 256 - 256 % len(_CHARS)
_TO_CHAR = bytes(ord(_CHARS[byte % len(_CHARS)]) for byte in range(_BYTE_LIMIT)).ljust(256, b"?")
_REDRAWN = bytes(range(_BYTE_LIMIT, 256))
# A character -> its index in the alphabet; the sum of two indexes -> its character.
_TO_INDEX = bytes(_INDEX.get(chr(byte), 0) for byte in range(256))
_SUM_TO_CHAR = bytes(ord(_CHARS[total % len(_CHARS)]) for total in range(256))


def random_chars(count: int) -> str:
    """`count` uniformly random characters of CSRF_ALLOWED_CHARS."""
    drawn = b""
    while len(drawn) < count:
        # A few bytes more than needed, since about 3% are dropped.
        drawn += os.urandom(count + 8).translate(_TO_CHAR, _REDRAWN)
    return drawn[:count].decode()


def csrf_token(request: HttpRequest) -> str:
    """The masked CSRF token for a form, as `get_token()` returns it, minting the secret (and
    so the cookie) for a browser that has none."""
    secret = request.META.get("CSRF_COOKIE")
    drawn = random_chars(CSRF_SECRET_LENGTH if secret else 2 * CSRF_SECRET_LENGTH)
    if not secret:
        secret = drawn[CSRF_SECRET_LENGTH:]
        request.META["CSRF_COOKIE"] = secret
    # As get_token(): the middleware sends the cookie, renewing its expiry, and Vary: Cookie.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = drawn[:CSRF_SECRET_LENGTH]
    # Django's masking (django.middleware.csrf._mask_cipher_secret), which the middleware undoes:
    # each character's index in the alphabet plus its mask's, modulo 62. The indexes are bytes
    # below 62, so adding the two strings as big numbers adds them byte by byte, carry-free.
    total = int.from_bytes(secret.encode().translate(_TO_INDEX)) + int.from_bytes(
        mask.encode().translate(_TO_INDEX)
    )
    return mask + total.to_bytes(CSRF_SECRET_LENGTH).translate(_SUM_TO_CHAR).decode()


def csrf_cookie_middleware(get_response):
    """Sets the CSRF cookie as CsrfViewMiddleware would, for a fraction of the cost.

    Placed just inside Django's CsrfViewMiddleware, which stays in MIDDLEWARE (its checks,
    `check --deploy`'s among them, look for it): this sets the cookie it was about to set, with
    `cookie_set()`'s byte-identical line, adds `Vary: Cookie` only where the response does not
    say it already, and clears the flag, as Django's `process_response` does, so that it is set
    once.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and not settings.CSRF_USE_SESSIONS:
            name, attributes = _cookie_settings()
            cookie_set(response, name, request.META["CSRF_COOKIE"], **attributes)
            if not has_vary_header(response, "Cookie"):
                patch_vary_headers(response, ("Cookie",))
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
        return response

    return middleware


@functools.cache
def _cookie_settings() -> tuple[str, dict]:
    """The CSRF cookie's name and attributes, as CsrfViewMiddleware sets them (read once: each
    setting read costs a microsecond, and a first visit would read eight)."""
    return settings.CSRF_COOKIE_NAME, {
        "max_age": settings.CSRF_COOKIE_AGE,
        "domain": settings.CSRF_COOKIE_DOMAIN,
        "path": settings.CSRF_COOKIE_PATH,
        "secure": settings.CSRF_COOKIE_SECURE,
        "httponly": settings.CSRF_COOKIE_HTTPONLY,
        "samesite": settings.CSRF_COOKIE_SAMESITE,
    }


@receiver(setting_changed)
def _cookie_settings_forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("CSRF_COOKIE_"):
        _cookie_settings.cache_clear()
