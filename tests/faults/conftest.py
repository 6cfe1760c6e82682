import os
import shutil

import pytest
from django.conf import settings

from .harness import PG_BIN, Postgres, Redis, Stack, laurel_env, manage


def skip_unless_faults_can_run() -> None:
    """Faults are injected into services of the test's own, in real mode; CI's real-mode run
    (LAUREL_REQUIRE_SERVICES) must run them, never skip them."""
    missing = [tool for tool in ("redis-server", "runuser") if not shutil.which(tool)]
    missing += [] if (PG_BIN / "initdb").exists() else [str(PG_BIN / "initdb")]
    if settings.REAL_MODE and not missing:
        return
    if os.environ.get("LAUREL_REQUIRE_SERVICES"):
        pytest.fail(f"LAUREL_REQUIRE_SERVICES is set but faults cannot be injected: {missing}")
    pytest.skip("needs real mode, redis-server and PostgreSQL's server binaries")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """One private cluster for every scenario (each has its own award), migrated once."""
    skip_unless_faults_can_run()
    cluster = Postgres()
    try:
        cluster.create()
        env = laurel_env(
            tmp_path_factory.mktemp("migrate"),
            database_url=cluster.url,
            redis_url="redis://127.0.0.1:9/0",  # migrate never connects to it
        )
        manage(env, "migrate", "--no-input")
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def redis(tmp_path):
    skip_unless_faults_can_run()
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path, postgres, redis):
    running = Stack(tmp_path, postgres, redis)
    yield running
    running.stop_all()
