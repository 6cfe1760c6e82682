"""Fetching a link an organizer gave (a nominee's photo) without reaching inside Laurel's network.

The worker that fetches sits next to PostgreSQL, Redis, the web containers' metrics and, in
most clouds, a metadata service: a link to any of them in an import must not be followed. Each
connection, redirects included, goes to an address checked to be on the public internet, and
to exactly that address, so a name that resolves differently a moment later changes nothing.
"""

import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings


class PrivateAddress(OSError):
    pass


class FetchRefused(OSError):
    """Too slow, too large, or led somewhere a fetch does not go."""


# How many redirects a fetch follows, each checked like the first link.
MAX_REDIRECTS = 3
# Each read waits at most this long; the whole fetch at most its deadline (fetch_bytes).
READ_SECONDS = 5
CHUNK = 64 * 1024
# Addresses is_global does not refuse although they lead into a network they do not name:
# NAT64 and 6to4 carry an IPv4 address inside, Teredo tunnels to one, and the IPv4-mapped and
# IPv4-compatible forms are an IPv4 address written as IPv6.
TRANSLATED = [
    ipaddress.ip_network(net)
    for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::ffff:0:0/96")
]


def address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global:
        return True
    return ip.version == 6 and any(ip in net for net in TRANSLATED)


def public_urlopen(request: urllib.request.Request, *, timeout: float):
    """urllib's urlopen for http and https alone (no file:, ftp: or data: handler exists to be
    reached, by the link or a redirect), refusing hosts that are not on the public internet
    (unless PHOTO_FETCH_PRIVATE_ADDRESSES allows them) and ignoring proxy variables."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.UnknownHandler(),
        _HTTPHandler(),
        _HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _RedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener.open(request, timeout=timeout)


def fetch_bytes(url: str, *, max_bytes: int, deadline_seconds: float, agent: str) -> bytes:
    """The body at `url`, or FetchRefused: more than `max_bytes`, or not all there within
    `deadline_seconds` (a host that sends a byte every few seconds is given up on, not
    waited for)."""
    deadline = time.monotonic() + deadline_seconds
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    body = bytearray()
    with public_urlopen(request, timeout=READ_SECONDS) as response:
        while chunk := response.read1(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise FetchRefused(f"larger than {max_bytes // 2**20} MB")
            if time.monotonic() > deadline:
                raise FetchRefused(f"not received within {deadline_seconds:g} s")
    return bytes(body)


def checked_address(host: str, port: int) -> str:
    """The address to connect to for host: every address it resolves to must be public."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [sockaddr[0] for *_, sockaddr in found]
    if not settings.PHOTO_FETCH_PRIVATE_ADDRESSES:
        for address in addresses:
            if address_refused(address):
                raise PrivateAddress(f"{host} is not on the public internet ({address})")
    return addresses[0]


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        # Each hop's host is checked when it connects (_HTTPConnection); here, its scheme.
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to another scheme", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _HTTPConnection(http.client.HTTPConnection):
    def connect(self):
        # To the checked address itself: a name that resolves differently a moment later
        # changes nothing. No proxy is ever used (public_urlopen), so there is no tunnel.
        address = (checked_address(self.host, self.port), self.port)
        self.sock = socket.create_connection(address, self.timeout, self.source_address)


class _HTTPSConnection(http.client.HTTPSConnection, _HTTPConnection):
    pass  # its connect() wraps ours in TLS, checked against the host name, not the address


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self):
        self.tls = ssl.create_default_context()
        super().__init__(context=self.tls)

    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self.tls)
