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
import urllib.request

from django.conf import settings


class PrivateAddress(OSError):
    pass


def public_urlopen(request: urllib.request.Request, *, timeout: float):
    """urllib's urlopen, refusing hosts that are not on the public internet (unless the
    PHOTO_FETCH_PRIVATE_ADDRESSES setting allows them) and ignoring proxy variables."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _HTTPHandler, _HTTPSHandler
    )
    return opener.open(request, timeout=timeout)


def checked_address(host: str, port: int) -> str:
    """The address to connect to for host: every address it resolves to must be public."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [sockaddr[0] for *_, sockaddr in found]
    if not settings.PHOTO_FETCH_PRIVATE_ADDRESSES:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
                raise PrivateAddress(f"{host} is not on the public internet ({address})")
    return addresses[0]


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
