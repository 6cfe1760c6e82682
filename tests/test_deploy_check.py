"""A deployment needs no step beyond README's: the required variables give a secure real mode,
and `migrate` alone leaves a working install."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "DATABASE_URL": "postgres://laurel:secret@db.internal:5432/laurel",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "SECRET_KEY": "9f2c4e7a1b3d5f60718293a4b5c6d7e8f9011223344556677889900aabbccddee",
    "ALLOWED_HOSTS": "vote.example.com",
}
SECURITY = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER is not None, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`args` under Python with only `env` (and what any process needs) in its environment."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    base["DJANGO_SETTINGS_MODULE"] = "laurel.settings"
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_the_four_required_variables_pass_the_deploy_check():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], REQUIRED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_four_required_variables_mean_https_only():
    result = run(["-c", SECURITY], REQUIRED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "31536000", "True", "True", "True", "True", "False"]


def test_hsts_preload_is_an_opt_in_that_passes_the_deploy_check():
    """Preloading commits the whole domain to HTTPS in browsers for months: never a default."""
    env = {**REQUIRED, "SECURE_HSTS_PRELOAD": "true"}
    assert run(["-c", SECURITY], env).stdout.split()[-2:] == ["True", "True"]
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_http_is_an_explicit_opt_out_that_the_deploy_check_reports():
    env = {**REQUIRED, "LAUREL_INSECURE_HTTP": "true"}
    assert run(["-c", SECURITY], env).stdout.split()[:5] == [
        "False",
        "0",
        "False",
        "False",
        "False",
    ]
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE


@pytest.mark.django_db
def test_behind_the_tls_proxy_plain_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD = True, False
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get("/", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/"
    secure = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    settings.SECURE_HSTS_PRELOAD = True  # the opt-in, read when the middleware starts
    secure = Client().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # The load balancer's liveness probe stays on plain HTTP.
    assert client.get("/healthz", HTTP_X_FORWARDED_PROTO="http").status_code == 200


MIGRATE_THEN_VOTE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.ballots import vote_like_a_browser
from tests.factories import NomineeFactory
from voting.models import Vote
nominee = NomineeFactory()
response = vote_like_a_browser(nominee, REMOTE_ADDR="203.0.113.5", HTTP_HOST="localhost")
print(response.status_code, Vote.objects.filter(nominee=nominee).count())
"""


def test_migrate_alone_leaves_an_install_that_records_votes(tmp_path):
    """Embedded mode's cache is a database table: `migrate` creates it, no other step."""
    result = run(["-c", MIGRATE_THEN_VOTE], {"LAUREL_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["200", "1"]
