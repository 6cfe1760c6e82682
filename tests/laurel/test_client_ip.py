"""The address votes record and the per-IP cap counts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from laurel.lib import net
from laurel.lib.net import Networks, client_networks
from tests.ballots import vote_like_a_browser
from voting.models import Vote

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = ["127.0.0.0/8", "::1"]

rf = RequestFactory()


@pytest.fixture(autouse=True)
def fresh_process(settings):
    """Each test is a process that has logged nothing yet, with the default unix-socket trust."""
    settings.TRUST_UNIX_SOCKET = True
    net.logged_once.clear()


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return rf.get("/", **extra)


def ip_of(remote: str, forwarded: str | None = None) -> str:
    return client_networks(request_from(remote, forwarded)).address


def proxy_settings(**env: str) -> str:
    """TRUSTED_PROXIES and TRUST_UNIX_SOCKET as laurel/settings.py reads them from `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LAUREL_", "TRUST"))}
    for name in ("DATABASE_URL", "REDIS_URL"):
        clean.pop(name, None)
    code = "from laurel import settings as s; print(s.TRUSTED_PROXIES, s.TRUST_UNIX_SOCKET)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_remote_addr_is_the_client_when_no_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = []
    assert ip_of("203.0.113.9") == "203.0.113.9"


def test_a_spoofed_forwarded_header_never_changes_the_address(settings):
    settings.TRUSTED_PROXIES = []
    assert ip_of("203.0.113.9", "1.2.3.4") == "203.0.113.9"


def test_a_trusted_proxy_passes_on_the_clients_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert ip_of("10.1.2.3", "198.51.100.20") == "198.51.100.20"


def test_a_client_cannot_prepend_its_own_choice_through_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it saw.
    assert ip_of("10.1.2.3", "1.2.3.4, 198.51.100.20") == "198.51.100.20"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    assert ip_of("10.1.2.3", "198.51.100.20, 192.0.2.1") == "198.51.100.20"


def test_garbage_in_the_forwarded_header_falls_back_to_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert ip_of("10.1.2.3", "not-an-ip") == "10.1.2.3"


def test_ipv6_addresses_count_per_64_network(settings):
    settings.TRUSTED_PROXIES = []
    assert ip_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert ip_of("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert ip_of("2001:db8:1:3::1") == "2001:db8:1:3::/64"


def test_ipv4_mapped_ipv6_is_read_as_ipv4(settings):
    settings.TRUSTED_PROXIES = []
    assert ip_of("::ffff:203.0.113.9") == "203.0.113.9"


@pytest.mark.django_db
def test_a_vote_records_the_address_with_a_spoofed_header_ignored(client, nominee, settings):
    settings.TRUSTED_PROXIES = []
    vote_like_a_browser(
        nominee, client, REMOTE_ADDR="2001:db8:abcd:12:1::7", HTTP_X_FORWARDED_FOR="8.8.8.8"
    )
    assert Vote.objects.get().ip == "2001:db8:abcd:12::/64"


def test_behind_a_unix_socket_the_forwarded_client_is_the_voter(settings):
    settings.TRUSTED_PROXIES = LOOPBACK
    # gunicorn on a unix socket has no peer address: REMOTE_ADDR is empty.
    assert ip_of("", "198.51.100.20") == "198.51.100.20"
    assert ip_of("", "203.0.113.9") == "203.0.113.9"


def test_behind_a_unix_socket_a_client_cannot_prepend_its_own_choice(settings):
    settings.TRUSTED_PROXIES = LOOPBACK
    assert ip_of("", "1.2.3.4, 198.51.100.20") == "198.51.100.20"
    assert ip_of("", "1.2.3.4, 198.51.100.20, 127.0.0.1") == "198.51.100.20"


def test_two_voters_behind_a_unix_socket_get_their_own_rate_limit_buckets(settings):
    settings.TRUSTED_PROXIES = LOOPBACK
    first = ip_of("", "198.51.100.20")
    second = ip_of("", "198.51.100.21")
    assert first != second


def test_a_unix_socket_is_not_believed_when_trust_unix_socket_is_off(settings):
    settings.TRUSTED_PROXIES = LOOPBACK
    settings.TRUST_UNIX_SOCKET = False
    assert ip_of("", "198.51.100.20") == "unknown"


def test_loopback_is_trusted_until_trusted_proxies_is_set():
    assert proxy_settings() == "['127.0.0.0/8', '::1'] True"
    assert (
        proxy_settings(TRUSTED_PROXIES="10.0.0.5, 172.18.0.0/16")
        == "['10.0.0.5', '172.18.0.0/16'] True"
    )
    assert proxy_settings(TRUSTED_PROXIES="none") == "[] True"
    assert proxy_settings(TRUST_UNIX_SOCKET="false") == "['127.0.0.0/8', '::1'] False"


def test_a_proxy_on_the_same_machine_passes_on_the_clients_address(settings):
    settings.TRUSTED_PROXIES = LOOPBACK
    assert ip_of("127.0.0.1", "198.51.100.20") == "198.51.100.20"
    assert ip_of("::1", "2001:db8:1:2::9") == "2001:db8:1:2::/64"


def test_a_malformed_trusted_proxy_names_the_setting(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        ip_of("10.1.2.3", "198.51.100.20")


def test_an_untrusted_proxy_on_a_private_network_is_reported_once(settings, caplog):
    settings.TRUSTED_PROXIES = LOOPBACK
    assert ip_of("172.18.0.5", "198.51.100.20") == "172.18.0.5"
    assert ip_of("172.18.0.5", "198.51.100.21") == "172.18.0.5"
    assert ip_of("10.0.0.7", "198.51.100.22") == "10.0.0.7"
    [record] = [r for r in caplog.records if r.name == "laurel.lib.net"]
    assert record.levelname == "ERROR"
    assert "172.18.0.5" in record.getMessage()
    assert "add it to TRUSTED_PROXIES" in record.getMessage()


def test_a_public_client_sending_the_header_is_not_mistaken_for_a_proxy(settings, caplog):
    settings.TRUSTED_PROXIES = LOOPBACK
    assert ip_of("198.51.100.7", "1.2.3.4") == "198.51.100.7"
    assert ip_of("172.18.0.5") == "172.18.0.5"  # a private client without the header
    assert not [r for r in caplog.records if r.name == "laurel.lib.net"]


@pytest.mark.parametrize(
    ("trust_unix_socket", "forwarded"), [(False, "198.51.100.20"), (True, None), (True, "junk")]
)
def test_a_request_with_no_address_at_all_is_reported_once(
    settings, caplog, trust_unix_socket, forwarded
):
    settings.TRUSTED_PROXIES = LOOPBACK
    settings.TRUST_UNIX_SOCKET = trust_unix_socket
    assert ip_of("", forwarded) == "unknown"
    assert ip_of("", forwarded) == "unknown"
    [record] = [r for r in caplog.records if r.name == "laurel.lib.net"]
    assert record.levelname == "ERROR"
    assert "TRUST_UNIX_SOCKET" in record.getMessage()


def test_an_ipv4_client_is_also_counted_by_its_24(settings):
    settings.TRUSTED_PROXIES = []
    assert client_networks(request_from("203.0.113.9")) == Networks(
        address="203.0.113.9", wider=("203.0.113.0/24",), network="203.0.113.0/24"
    )


def test_an_ipv6_client_is_also_counted_by_its_56_and_48(settings):
    settings.TRUSTED_PROXIES = []
    assert client_networks(request_from("2001:db8:1:2ff:aaaa::1")) == Networks(
        address="2001:db8:1:2ff::/64",
        wider=("2001:db8:1:200::/56", "2001:db8:1::/48"),
        network="2001:db8:1::/48",
    )


def test_an_unknown_client_has_no_wider_networks(settings):
    settings.TRUST_UNIX_SOCKET = False
    assert client_networks(request_from("")) == Networks(
        address="unknown", wider=(), network="unknown"
    )
