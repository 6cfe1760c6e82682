"""docker-compose.yml runs real mode; no engine runs here, so its shape is checked instead."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_redis_web_worker_and_one_beat(compose):
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "beat" in services["beat"]["command"]
    assert "worker" in services["worker"]["command"]
    assert services["web"].get("command") is None  # the image's gunicorn CMD


def test_compose_services_run_laurel_in_real_mode(compose):
    for name in ("migrate", "web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["LAUREL_MODE"] == "real"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_compose_migrates_before_serving_and_checks_health(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "web", "worker"):
        assert "test" in services[name]["healthcheck"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_keeps_data_in_named_volumes(compose):
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])


def test_compose_file_is_valid_for_docker_compose():
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("LAUREL_REQUIRE_TOOLS"):
            pytest.fail("docker-compose is required here (LAUREL_REQUIRE_TOOLS is set)")
        pytest.skip("docker-compose is not installed; .ci/run installs it")
    env = {**os.environ, "SECRET_KEY": "compose-validation-secret"}
    result = subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_healthz_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"
