"""Who may read Laurel's insides (/metrics, /healthz's details): a scraper told apart from the
public, by a bearer token or by a direct connection from an allowed address."""

import ipaddress
import secrets
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


@cache
def allowed_networks(entries: tuple[str, ...]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED: {error}") from None


def scraper_allowed(request: HttpRequest) -> bool:
    """METRICS_TOKEN as a bearer token, or a direct connection from METRICS_ALLOWED.

    The address is the connection's own, never X-Forwarded-For; and a request that came
    through a proxy is the public's even when the proxy connects from an allowed address (nginx
    on the same machine connects from loopback).
    """
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    if "X-Forwarded-For" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False  # a unix socket: only the proxy connects there
    return any(address in network for network in allowed_networks(tuple(settings.METRICS_ALLOWED)))
