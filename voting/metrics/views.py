"""/metrics for Prometheus, never for the public: the proxy does not route it (deploy/nginx),
and Laurel answers it only to a scraper it can tell apart from the public."""

import ipaddress
import secrets
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from voting.metrics.collector import LaurelCollector


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


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not scraper_allowed(request):
        return HttpResponse(
            "Metrics are served only to METRICS_ALLOWED addresses, or with METRICS_TOKEN as a "
            "bearer token.\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LaurelCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
