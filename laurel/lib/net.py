"""Who is at the other end of a request: the client address as Laurel counts it."""

import ipaddress
import logging
from dataclasses import dataclass
from functools import cache, lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"
IPv6_PREFIX = 64
# One household or office can hold a whole IPv4 /24 or IPv6 /48 (65,536 /64s), so the wider
# networks are counted as well, narrowest first; the last is the one stored on each vote.
WIDER_PREFIXES = {4: (24,), 6: (56, 48)}
# Where a reverse proxy on the same host, container network or data centre connects from.
# X-Forwarded-For from one of these that is not trusted almost surely means a forgotten proxy.
PROXY_LIKE = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "127.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)

# Kinds of misconfiguration already logged by this process.
logged_once: set[str] = set()


@dataclass(frozen=True)
class Networks:
    """A client as the caps count it: its address and the wider networks that hold it."""

    address: str  # IPv4 address, or the IPv6 /64; UNKNOWN when none could be found
    wider: tuple[str, ...]  # IPv4: (/24,); IPv6: (/56, /48); empty when unknown
    network: str  # the widest of them, stored on each vote


@cache
def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address) -> bool:
    return any(address in network for network in trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def _log_once(kind: str, message: str, *args: object) -> None:
    # Once per process: a flood of such requests must not fill the disk.
    if kind not in logged_once:
        logged_once.add(kind)
        logger.error(message, *args)


def client_address(request: HttpRequest) -> Address | None:
    """REMOTE_ADDR, unless it is a trusted proxy: then the nearest untrusted X-Forwarded-For hop.

    An empty REMOTE_ADDR is a unix socket, which only processes on this machine (the proxy) can
    reach: with TRUST_UNIX_SOCKET it counts as a trusted proxy. None when no address is found.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "").strip()
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    remote = _address(remote_addr)
    if not remote_addr and settings.TRUST_UNIX_SOCKET:
        address = _forwarded_client(forwarded, nearest=None)
    elif remote is not None and _is_trusted(remote):
        address = _forwarded_client(forwarded, nearest=remote)
    else:
        if forwarded and remote is not None and any(remote in n for n in PROXY_LIKE):
            _log_once(
                "untrusted proxy",
                "X-Forwarded-For from %s: this looks like a reverse proxy that Laurel does not "
                "trust, so every voter will share its address; add it to TRUSTED_PROXIES",
                remote,
            )
        address = remote
    if address is None:
        _log_once(
            "no address",
            "No client address in REMOTE_ADDR=%r or X-Forwarded-For=%r: every such voter shares "
            "one rate-limit bucket. A proxy on a unix socket must send X-Forwarded-For, and "
            "TRUST_UNIX_SOCKET must be true (it is %s)",
            remote_addr,
            forwarded[:200],
            settings.TRUST_UNIX_SOCKET,
        )
    return address


def _forwarded_client(forwarded: str, nearest: Address | None) -> Address | None:
    """The rightmost untrusted hop of X-Forwarded-For, else the furthest trusted one reached.

    Walking from the right means a client cannot choose its own address by sending the header
    itself: only hops appended by trusted proxies are skipped.
    """
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            # Whatever stands left of garbage may be the client's own invention.
            break
        if not _is_trusted(address):
            return address
        nearest = address
    return nearest


def client_networks(request: HttpRequest) -> Networks:
    """The client's address and wider networks."""
    return networks_of(client_address(request))


@lru_cache(maxsize=4096)  # a crowd comes from fewer addresses than it sends requests
def networks_of(address: Address | None) -> Networks:
    """What the caps and signals count for one address (None: an unknown client)."""
    if address is None:
        return Networks(address=UNKNOWN, wider=(), network=UNKNOWN)
    wider = tuple(_network(address, prefix) for prefix in WIDER_PREFIXES[address.version])
    own = _network(address, IPv6_PREFIX) if address.version == 6 else str(address)
    return Networks(address=own, wider=wider, network=wider[-1])


def _network(address: Address, prefix: int) -> str:
    # Built from the integer, not parsed from text: this runs several times on every vote.
    host_bits = address.max_prefixlen - prefix
    network = type(address)(int(address) >> host_bits << host_bits)
    return f"{network}/{prefix}"


def network_of(text: str) -> str | None:
    """The widest network an address as votes store it (an address, or an IPv6 /64) is counted
    in: its IPv4 /24 or IPv6 /48, as networks_of() finds it. None for text that is not an
    address ("unknown")."""
    try:
        address = ipaddress.ip_network(text.strip(), strict=False).network_address
    except ValueError:
        return None
    return networks_of(address).network
