"""Keyed hashing: a value turned into a code that only this deployment can reproduce."""

import hashlib
import hmac
from functools import cache

from django.conf import settings


@cache
def _key(purpose: str, secret: str) -> bytes:
    # A key of its own per purpose, so that one purpose's codes reveal nothing about another's.
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of `value` (hex) under SECRET_KEY and `purpose`: the same value gives the
    same code for one purpose, and a code is no help in guessing the value."""
    key = _key(purpose, settings.SECRET_KEY)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
