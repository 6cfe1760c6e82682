"""Who is at the other end of a request: the client address as Laurel counts it."""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

IPv6_PREFIX = 64
UNKNOWN = "unknown"


@cache
def trusted_networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address) -> bool:
    return any(address in network for network in trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request: HttpRequest):
    """REMOTE_ADDR, unless it is a trusted proxy: then the nearest untrusted X-Forwarded-For hop.

    Walking X-Forwarded-For from the right means a client cannot choose its own address by
    sending the header itself: only hops appended by trusted proxies are skipped.
    """
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None or not _is_trusted(remote):
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        if not _is_trusted(address):
            return address
    return remote


def client_ip(request: HttpRequest) -> str:
    """The address as votes record and the per-IP cap counts it: IPv6 by its /64 network."""
    known = getattr(request, "_laurel_client_ip", None)
    if known is None:
        known = request._laurel_client_ip = _client_ip(request)
    return known


def _client_ip(request: HttpRequest) -> str:
    address = client_address(request)
    if address is None:
        return UNKNOWN
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPv6_PREFIX}", strict=False))
    return str(address)


def ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: one bucket per client address (IPv6: per /64)."""
    return client_ip(request)
