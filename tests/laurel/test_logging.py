"""Logs: one JSON object a line in real mode, every line of a request carrying its id."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from laurel.logs import json_formatter

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
NGINX_ID = "0f8fad5bd9cb469fa1657d2b6cbf2a8c"  # what nginx's $request_id looks like


@pytest.fixture
def json_lines():
    """What the real-mode handler writes, captured as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_every_line_of_a_request_carries_its_id_and_the_response_names_it(json_lines):
    response = Client().get("/no-such-award/")  # a 404: django.request logs it too
    request_id = response["X-Request-ID"]
    lines = json_lines()
    events = [line["event"] for line in lines]
    assert "request_started" in events and "request_finished" in events
    assert any(line["logger"] == "django.request" for line in lines)
    assert {line["request_id"] for line in lines} == {request_id}
    finished = next(line for line in lines if line["event"] == "request_finished")
    assert finished["code"] == 404
    assert finished["level"] == "warning"
    assert finished["request"] == "GET /no-such-award/"
    assert "timestamp" in finished


def test_the_proxys_request_id_is_kept_so_its_log_and_laurels_join(json_lines):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=NGINX_ID)
    assert response["X-Request-ID"] == NGINX_ID
    assert {line["request_id"] for line in json_lines()} == {NGINX_ID}


@pytest.mark.parametrize("sent", ['x"}\n{"forged": 1', "a" * 500, "short"])
def test_a_malformed_request_id_is_replaced(json_lines, sent):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32
    assert {line["request_id"] for line in json_lines()} == {response["X-Request-ID"]}


def test_logs_name_no_client_address(json_lines):
    Client().get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    text = json.dumps(json_lines())
    assert "203.0.113.9" not in text and "198.51.100.1" not in text


def test_a_traceback_is_one_string_without_local_variables(json_lines):
    secret = "hunter2-never-in-logs"
    try:
        password = secret  # noqa: F841 - a local the structured traceback would write out
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("laurel.test").exception("it failed")
    (line,) = [line for line in json_lines() if line["event"] == "it failed"]
    assert "ValueError: boom" in line["exception"]
    assert secret not in json.dumps(line)


def settings_in(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LAUREL_", "LOG_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "laurel.settings", **env})
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.LOGGING['handlers']['console']['formatter'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_real_mode_logs_json_and_embedded_mode_readable_lines():
    real = {
        "LAUREL_MODE": "real",
        "DATABASE_URL": "postgres://laurel@db.internal/laurel",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "SECRET_KEY": "x" * 50,
        "LAUREL_VAR_DIR": "/tmp/laurel-var",
    }
    assert settings_in(real) == "json"
    assert settings_in({**real, "LOG_FORMAT": "console"}) == "console"
    assert settings_in({"LAUREL_MODE": "embedded", "LAUREL_VAR_DIR": "/tmp/laurel-var"}) == (
        "console"
    )


def console_output(code: str, tmp_path) -> list[str]:
    """What embedded mode writes to the console while `code` runs in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUREL_", "LOG_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update({"DJANGO_SETTINGS_MODULE": "laurel.settings", "LAUREL_VAR_DIR": str(tmp_path)})
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    setup = "import django; django.setup(); from django.test import Client; "
    done = subprocess.run(
        [sys.executable, "-c", setup + code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_embedded_mode_logs_one_readable_line_per_request(tmp_path):
    lines = console_output(
        "c = Client(HTTP_HOST='127.0.0.1'); c.get('/'); c.get('/no-such-award/x/y/');"
        " c.get('/static/favicon.svg')",
        tmp_path,
    )
    lines = [line for line in lines if re.search("GET|Not Found|request_|streaming_", line)]
    assert len(lines) == 3, lines
    assert re.fullmatch(r"\d\d:\d\d:\d\d \[info\] GET / → 200", lines[0])
    assert re.match(r"\d\d:\d\d:\d\d \[warning\] GET /no-such-award/x/y/ → 404", lines[1])
    assert re.fullmatch(r"\d\d:\d\d:\d\d \[info\] GET /static/favicon.svg → 200", lines[2])


def test_embedded_mode_writes_each_line_once(tmp_path):
    lines = console_output(
        "import logging; logging.getLogger('django.utils.autoreload')"
        ".info('Watching for file changes with StatReloader')",
        tmp_path,
    )
    assert len([line for line in lines if "Watching for file changes" in line]) == 1, lines


def test_logs_keep_no_private_link_or_one_time_token(json_lines, nominee):
    Client().get("/sbia/ada-lovelace/stats/eyJuIjoxfQ:PRIVATE-TOKEN/")
    Client().get("/sbia/ada-lovelace/challenge/?token=1.ONE-TIME-TOKEN")
    text = json.dumps(json_lines())
    assert "/sbia/ada-lovelace/stats/.../" in text and "challenge/?token=..." in text
    assert "PRIVATE-TOKEN" not in text and "ONE-TIME-TOKEN" not in text
