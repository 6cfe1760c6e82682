"""Django's signatures (django.core.signing), made without its per-call set-up.

A first visit to a nominee's page signs twice: its one-time vote token and its voter cookie.
`signing.Signer(...)` reads five settings and imports its backend each time it is made, and
`salted_hmac` derives its key again for every value: about 10 µs of the 12 each signature costs
here. These return the very same strings (Django's `unsign` and `get_signed_cookie` read them,
with key rotation through SECRET_KEY_FALLBACKS); the cookie signer's key, whose salt is fixed, is
derived once per SECRET_KEY.
"""

import base64
import hashlib
import hmac
import time

from django.conf import settings
from django.core import signing

# A signed value is `value:signature`, as Django's default separator.
SEP = ":"
_COOKIE_KEYS: dict[tuple[str, str], bytes] = {}
# (second, its base 62) for the timestamp of the last cookie signed.
_stamp: tuple[int, str] = (0, "0")


def _derived_key(salt: str, secret: bytes) -> bytes:
    # django.utils.crypto.salted_hmac's key, for Signer.signature()'s salt.
    return hashlib.sha256((salt + "signer").encode() + secret).digest()


def _signature(key: bytes, value: str) -> str:
    digest = hmac.digest(key, value.encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed(value: str, *, salt: str) -> str:
    """`signing.Signer(salt=salt).sign(value)`, with the SECRET_KEY."""
    return f"{value}{SEP}{_signature(_derived_key(salt, settings.SECRET_KEY.encode()), value)}"


def _timestamp() -> str:
    global _stamp
    second = int(time.time())
    if _stamp[0] != second:
        _stamp = (second, signing.b62_encode(second))
    return _stamp[1]


def cookie_signed(name: str, value: str, *, salt: str) -> str:
    """What `response.set_signed_cookie(name, value, salt=salt)` stores in the cookie."""
    secret = settings.SECRET_KEY
    key = _COOKIE_KEYS.get((name + salt, secret))
    if key is None:
        # signing.get_cookie_signer()'s key and salt.
        cookie_secret = b"django.http.cookies" + secret.encode()
        key = _derived_key(signing._cookie_signer_salt(name, salt), cookie_secret)
        _COOKIE_KEYS[name + salt, secret] = key
    value = f"{value}{SEP}{_timestamp()}"
    return f"{value}{SEP}{_signature(key, value)}"
