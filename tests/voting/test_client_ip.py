"""The address votes record and the per-IP cap counts."""

import pytest
from django.test import RequestFactory

from voting.models import Vote
from voting.net import client_ip

rf = RequestFactory()


def ip_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(rf.get("/", **extra))


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
    client.post(
        nominee.get_absolute_url() + "vote/",
        REMOTE_ADDR="2001:db8:abcd:12:1::7",
        HTTP_X_FORWARDED_FOR="8.8.8.8",
    )
    assert Vote.objects.get().ip == "2001:db8:abcd:12::/64"
