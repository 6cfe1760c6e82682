"""Admin logins are throttled by django-axes, per username and client address."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

OFFICE = "198.51.100.20"


@pytest.fixture
def olga(django_user_model):
    return django_user_model.objects.create_user("olga", password="right-password", is_staff=True)


def log_in(client, username, password, ip=OFFICE, **headers):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
        **headers,
    )


def fail_until_locked(client, username="olga", ip=OFFICE, **headers):
    responses = [
        log_in(client, username, "wrong", ip=ip, **headers)
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    return responses[-1]


def test_it_locks_out_after_the_failure_limit_even_with_the_right_password(client, olga):
    locked = fail_until_locked(client)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text
    assert "olga" in locked.text
    assert "Try again in 15 minutes" in locked.text

    response = log_in(client, "olga", "right-password")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302  # still the login form


def test_spraying_one_username_from_many_addresses_locks_that_username(client, olga):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "olga", "wrong", ip=f"203.0.113.{n + 1}")
    assert log_in(client, "olga", "right-password", ip="192.0.2.77").status_code == 429


def test_spraying_from_many_addresses_of_one_ipv6_64_counts_as_one_address(
    client, olga, django_user_model
):
    users = [f"staff{n}" for n in range(settings.AXES_FAILURE_LIMIT)]
    for n, user in enumerate(users):  # a new address and a new username every time
        log_in(client, user, "wrong", ip=f"2001:db8:1:2::{n + 1:x}")
    assert log_in(client, "olga", "right-password", ip="2001:db8:1:2:ffff::9").status_code == 429
    # Another /64 (another household) signs in.
    assert log_in(client, "olga", "right-password", ip="2001:db8:1:3::1").status_code == 302


def test_every_sign_in_failure_and_lockout_is_logged(client, olga):
    from axes.models import AccessFailureLog, AccessLog

    assert log_in(client, "olga", "right-password").status_code == 302
    assert AccessLog.objects.filter(username="olga").count() == 1
    client.logout()
    fail_until_locked(client)
    failures = AccessFailureLog.objects.filter(username="olga")
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert failures.filter(locked_out=True).exists()


def test_behind_the_proxy_the_client_address_is_the_one_counted(client, olga):
    # The proxy on this machine (loopback, trusted) passes the client's address along.
    locked = fail_until_locked(client, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.50")
    assert locked.status_code == 429
    assert {a.ip_address for a in AccessAttempt.objects.all()} == {"192.0.2.50"}


def test_the_lockout_ends_after_the_cool_off(client, olga):
    fail_until_locked(client)
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    attempt = AccessAttempt.objects.get()
    AccessAttempt.objects.update(
        attempt_time=attempt.attempt_time - cool_off - timedelta(seconds=1)
    )
    assert log_in(client, "olga", "right-password").status_code == 302


def test_a_successful_login_forgets_earlier_failures(client, olga):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "olga", "wrong")
    assert log_in(client, "olga", "right-password").status_code == 302
    client.logout()
    assert log_in(client, "olga", "wrong").status_code == 200  # one failure, not the limit


def test_management_commands_print_no_axes_banner():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "AXES" not in done.stdout + done.stderr
