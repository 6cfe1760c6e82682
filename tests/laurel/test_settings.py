"""Settings are read from the environment once; bad values stop start-up naming the variable."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL = {
    "DATABASE_URL": "postgres://laurel:secret@db.internal:5433/laurel",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "vote.example.com,www.vote.example.com",
}
PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; "
    "print(s.LAUREL_MODE, s.DEBUG, d['ENGINE'], d.get('HOST'), d.get('PORT'), d['NAME'], "
    "s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, "
    "','.join(s.ALLOWED_HOSTS))"
)


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LAUREL_", "DATABASE_"))}
    for name in ("REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "RATELIMIT_ENABLE"):
        clean.pop(name, None)
    clean.update({"DJANGO_SETTINGS_MODULE": "laurel.settings", "LAUREL_VAR_DIR": "/tmp/laurel-var"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_nothing_set_runs_embedded_on_sqlite_with_tasks_in_process():
    result = load_settings({})
    assert result.returncode == 0, result.stderr
    mode, debug, engine, *_rest, cache, broker, eager, hosts = result.stdout.split()
    assert (mode, debug, engine) == ("embedded", "True", "django.db.backends.sqlite3")
    assert cache == "django.core.cache.backends.db.DatabaseCache"
    assert (broker, eager) == ("memory://localhost/", "True")
    assert "127.0.0.1" in hosts


def test_real_mode_reads_postgres_redis_and_hosts():
    result = load_settings(REAL)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[:7] == [
        "real",
        "False",
        "django.db.backends.postgresql",
        "db.internal",
        "5433",
        "laurel",
        "django_redis.cache.RedisCache",
    ]
    assert words[7:] == ["redis://cache.internal:6379/0", "False", REAL["ALLOWED_HOSTS"]]


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "SECRET_KEY"])
def test_real_mode_refuses_to_start_without_a_required_variable(missing):
    env = {**REAL, "LAUREL_MODE": "real"}
    env.pop(missing)
    result = load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set in real mode" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/laurel", "DATABASE_URL must be a postgres:// URL"),
        ("DATABASE_URL", "postgres://db:port/laurel", "DATABASE_URL has a malformed port"),
        ("DATABASE_URL", "postgres://db:5432/", "DATABASE_URL must name a database"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a redis:// URL"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 32 characters"),
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("DATABASE_CONN_MAX_AGE", "soon", "DATABASE_CONN_MAX_AGE must be a whole number"),
        ("REDIS_TIMEOUT", "-1", "REDIS_TIMEOUT must be greater than zero"),
        ("LAUREL_MODE", "production", "LAUREL_MODE must be 'embedded' or 'real'"),
        ("REDIS_TIMEOUT", "fast", "REDIS_TIMEOUT must be a number, not 'fast'"),
        ("REDIS_TIMEOUT", "1e3x", "REDIS_TIMEOUT must be a number"),
        ("VOTE_TOKEN_SECONDS", "30", "VOTE_TOKEN_SECONDS must be at least 60"),
        ("LAUREL_INSECURE_HTTP", "sometimes", "LAUREL_INSECURE_HTTP must be a boolean"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
    ],
)
def test_malformed_values_stop_start_up_naming_the_variable(name, value, message):
    result = load_settings({**REAL, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_debug_can_be_turned_on_explicitly_in_real_mode():
    result = load_settings({**REAL, "DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "True"


def test_a_blank_value_counts_as_unset():
    result = load_settings({**REAL, "DEBUG": "", "DATABASE_CONN_MAX_AGE": " "})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "False"


def test_a_secret_is_taken_literally_even_when_it_starts_with_a_dollar():
    # django-environ on its own would look up a variable named after the rest of the value.
    secret = "$" + "k" * 40
    result = load_settings({**REAL, "SECRET_KEY": secret})
    assert result.returncode == 0, result.stderr


def test_an_env_file_is_read_only_when_named_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "laurel.env"
    env_file.write_text(
        "DATABASE_URL=postgres://laurel@db.internal:5433/laurel\n"
        "REDIS_URL=redis://cache.internal:6379/0\n"
        f"SECRET_KEY={'y' * 40}\n"
        "ALLOWED_HOSTS=from-the-file.example.com\n"
    )
    # Not named: nothing is read from it, so embedded mode.
    assert load_settings({}).stdout.split()[0] == "embedded"
    named = load_settings({"LAUREL_ENV_FILE": str(env_file), "ALLOWED_HOSTS": "from-env.example"})
    assert named.returncode == 0, named.stderr
    words = named.stdout.split()
    assert (words[0], words[3], words[-1]) == ("real", "db.internal", "from-env.example")


SETTINGS_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
EXAMPLE_NAMES = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def test_every_variable_settings_reads_is_documented_in_env_example():
    read = set(SETTINGS_READ.findall((ROOT / "laurel" / "settings.py").read_text()))
    documented = set(EXAMPLE_NAMES.findall((ROOT / ".env.example").read_text()))
    assert {"DATABASE_URL", "SECRET_KEY", "LAUREL_INSECURE_HTTP"} <= read  # the pattern finds them
    assert read - documented == set()
    assert documented - read == set()  # nor does the example offer a variable nobody reads
