"""Each pytest-xdist worker gets a share of the machine of its own, before Django reads its settings.

A plugin (`-p tests.parallel` in pyproject.toml's addopts), not a conftest.py: pytest-django
imports the settings before any conftest.py is read. Outside xdist (`make test WORKERS=0`, and
the serial pass) it changes nothing.

- Test databases: pytest-django already names each worker's apart (`test_laurel_gw0`, and
  `test.sqlite3_gw0` in embedded mode).
- `LAUREL_VAR_DIR`: a folder per worker, so that real mode's collectstatic, media files and
  screenshots never meet another worker's half-written ones.
- Redis (real mode): worker n uses database number (REDIS_URL's + 1 + n), so that caps,
  integrity counters, cached pages, metrics and the Celery queue are one worker's alone; the
  Celery workers and processes a test starts inherit it.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDIS_DATABASES = 16  # redis.conf's default


def worker_redis_url(url: str, index: int) -> str:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = base + 1 + index
    if database >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"worker gw{index} would need Redis database {database} ({url} + 1 + {index}), "
            f"beyond Redis's {REDIS_DATABASES}: use fewer workers or a lower database in the URL"
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    var_dir = Path(os.environ.get("LAUREL_VAR_DIR") or ROOT / "var") / "workers" / worker
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["LAUREL_VAR_DIR"] = str(var_dir)
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "").strip()
        if url.startswith(("redis://", "rediss://")):
            os.environ[name] = worker_redis_url(url, index)
