"""Django's CSRF token for a form rendered once per visitor, drawn with one system call.

`django.middleware.csrf.get_token()` draws the secret and its mask (64 characters) with
`secrets.choice`, one `getrandom()` each: about 0.18 ms here, the largest part of a cached
nominee page's cost for a first-time visitor (every voter arriving from a shared link).
`csrf_token()` returns the same thing, a masked token for the request's secret, from one
`os.urandom()` call, and hands a new secret to CsrfViewMiddleware the way `get_token()` does
(through `request.META`), so the middleware sets the cookie and checks the form unchanged.
"""

import os

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {char: i for i, char in enumerate(_CHARS)}
# A random byte below 248 (4 x 62) becomes the character at its value modulo 62; the others are
# dropped and drawn again, so that every character is equally likely.
_BYTE_LIMIT = 256 - 256 % len(_CHARS)
_TO_CHAR = bytes(ord(_CHARS[byte % len(_CHARS)]) for byte in range(_BYTE_LIMIT)).ljust(256, b"?")
_REDRAWN = bytes(range(_BYTE_LIMIT, 256))


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
    # Django's masking (django.middleware.csrf._mask_cipher_secret), which the middleware undoes.
    pairs = zip(secret, mask, strict=True)
    return mask + "".join([_CHARS[(_INDEX[c] + _INDEX[m]) % len(_CHARS)] for c, m in pairs])
