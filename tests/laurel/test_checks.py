"""System checks warn before the first vote when Laurel cannot tell voters apart."""

import pytest
from django.core.checks import Tags, run_checks

from laurel.lib.checks import check_trusted_proxies


def ids(settings) -> list[str]:
    return [message.id for message in check_trusted_proxies()]


def test_loopback_and_private_networks_pass(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.18.0.5", "fc00::/7"]
    assert ids(settings) == []


def test_an_entry_that_is_not_an_address_is_an_error(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5", "proxy.internal", "none"]
    assert ids(settings) == ["laurel.E001", "laurel.E001"]


@pytest.mark.parametrize("entry", ["0.0.0.0/0", "::/0", "0.0.0.0/1", "64.0.0.0/4", "2000::/3"])
def test_trusting_the_whole_internet_is_an_error(settings, entry):
    settings.TRUSTED_PROXIES = ["127.0.0.1", entry]
    assert ids(settings) == ["laurel.E002"]


def test_trusting_no_proxy_at_all_warns_in_real_mode(settings):
    settings.TRUSTED_PROXIES = []
    settings.TRUST_UNIX_SOCKET = False
    settings.REAL_MODE = True
    assert ids(settings) == ["laurel.W001"]
    settings.TRUST_UNIX_SOCKET = True
    assert ids(settings) == []


def test_trusting_no_proxy_is_quiet_in_embedded_mode(settings):
    settings.TRUSTED_PROXIES = []
    settings.TRUST_UNIX_SOCKET = False
    settings.REAL_MODE = False
    assert ids(settings) == []


def test_the_checks_run_with_django_check(settings):
    settings.TRUSTED_PROXIES = ["0.0.0.0/0"]
    assert "laurel.E002" in [message.id for message in run_checks(tags=[Tags.security])]


def test_a_web_process_says_loudly_at_start_up_when_the_proxy_setup_is_wrong(settings, caplog):
    from laurel.lib.checks import announce_client_address_setup

    settings.TRUSTED_PROXIES = ["0.0.0.0/0"]
    settings.TRUST_UNIX_SOCKET = True
    with caplog.at_level("INFO", logger="laurel.lib.net"):
        announce_client_address_setup()
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert errors and "laurel.E002" in errors[0].getMessage()
    assert "a proxy connecting from 0.0.0.0/0 or over a unix socket may name" in caplog.text
