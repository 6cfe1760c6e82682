"""Standings recomputed by a real Celery worker on the real Redis broker (real mode only)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from laurel.celery import app
from tests.ballots import cast_vote, voter_somewhere
from tests.factories import NomineeFactory
from voting.models import Standing, TallyDelta
from voting.standings.services import raw_counts, standings_recompute
from voting.standings.tasks import standings_recompute_task

ROOT = Path(__file__).resolve().parents[3]
CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def real_mode_only():
    if not settings.REAL_MODE:
        if os.environ.get("LAUREL_REQUIRE_SERVICES"):
            pytest.fail("LAUREL_REQUIRE_SERVICES is set but Laurel is not in real mode")
        pytest.skip("needs real mode: PostgreSQL, Redis and a Celery worker")


def database_url_for_tests() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def laurel_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DATABASE_CONN_MAX_AGE": "0",
        **extra,
    }


class Processes:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen] = []

    def start(self, *args: str, name: str, **env: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [CELERY, "-A", "laurel", *args],
            cwd=ROOT,
            env=laurel_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def worker(self, name: str = "worker", *queues: str, **env: str) -> subprocess.Popen:
        process = self.start(
            "worker",
            *(("-Q", ",".join(queues)) if queues else ()),
            "-P",
            "solo",
            "-l",
            "INFO",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            name=name,
            **env,
        )
        self.wait_for(name, "ready.")
        return process

    def wait_for(self, name: str, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        path = self.tmp_path / f"{name}.log"
        while time.monotonic() < deadline:
            if text in path.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"{name} never said {text!r}:\n{path.read_text(errors='replace')}")

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def processes(tmp_path):
    app.control.purge()
    running = Processes(tmp_path)
    yield running
    running.stop_all()


def cast_votes(nominees, per_nominee: dict[int, int]) -> None:
    for nominee in nominees:
        for _ in range(per_nominee[nominee.pk]):
            voter = voter_somewhere()
            assert cast_vote(nominee=nominee, voter=voter, now=timezone.now()).counted


def converged(award_id: int) -> bool:
    shown = {
        n: v
        for n, v in Standing.objects.filter(award_id=award_id).values_list("nominee_id", "votes")
        if v
    }
    return (
        bool(shown)
        and shown == raw_counts(award_id=award_id)
        and not TallyDelta.objects.filter(award_id=award_id).exists()
    )


def wait_until_converged(award_id: int, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if converged(award_id):
            return
        time.sleep(0.2)
    raise AssertionError("standings never converged on the raw counts")


def test_a_worker_brings_standings_to_the_raw_counts_after_votes(processes, experts):
    processes.worker()
    nominees = NomineeFactory.create_batch(4, category=experts)
    cast_votes(nominees, {n.pk: i + 1 for i, n in enumerate(nominees)})
    wait_until_converged(experts.award_id)  # from the nudges alone: no beat runs here
    assert Standing.objects.get(nominee=nominees[-1]).overall_rank == 1


def wait_for_a_backend_waiting_on_a_lock(database: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Autocommit: pg_stat_activity is read once per transaction.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock'",
                [database],
            )
            waiting = cursor.fetchone()[0]
        if waiting:
            return
        time.sleep(0.1)
    raise AssertionError("the worker never reached the locked row")


def test_a_worker_killed_mid_recompute_leaves_standings_that_still_converge(processes, experts):
    nominees = NomineeFactory.create_batch(3, category=experts)
    standings_recompute(award_id=experts.award_id)
    cast_votes(nominees, {nominees[0].pk: 5, nominees[1].pk: 2, nominees[2].pk: 1})

    db = connection.settings_dict
    blocker = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    # Hold the row the worker must update after draining the pending changes, so the worker is
    # caught inside its transaction when it is killed.
    try:
        blocker.execute(
            "SELECT 1 FROM voting_standing WHERE nominee_id = %s FOR UPDATE", [nominees[0].pk]
        )
        worker = processes.worker("doomed")
        standings_recompute_task.apply_async((experts.award_id,))
        wait_for_a_backend_waiting_on_a_lock(db["NAME"])
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        blocker.rollback()
        blocker.close()

    assert TallyDelta.objects.filter(award_id=experts.award_id).count() == 8  # nothing half-applied
    processes.worker("survivor")
    standings_recompute_task.apply_async((experts.award_id,))
    wait_until_converged(experts.award_id)


def test_the_beat_schedule_catches_up_when_the_broker_was_down_for_votes(processes, experts):
    nominees = NomineeFactory.create_batch(3, category=experts)
    # Votes cast by a process whose broker is unreachable: they are recorded, fast, and no
    # nudge reaches any worker.
    script = (
        "import django, time; django.setup();"
        "from django.utils import timezone; from awards.models import Nominee;"
        "from tests.ballots import cast_vote; from voting.vocabulary import Voter;"
        "import uuid; t = time.monotonic();"
        f"ids = {[n.pk for n in nominees]};"
        "[cast_vote(nominee=Nominee.objects.select_related('award').get(pk=i), "
        "voter=Voter(key=uuid.uuid4().hex, ip='192.0.2.5', user_agent='x'), now=timezone.now()) "
        "for i in ids for _ in range(3)];"
        "print(round(time.monotonic() - t, 2))"
    )
    dead_broker = "redis://127.0.0.1:9/0"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=laurel_env(CELERY_BROKER_URL=dead_broker, DJANGO_SETTINGS_MODULE="laurel.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) < 20  # not a speed target: hangs would take minutes
    assert TallyDelta.objects.filter(award_id=experts.award_id).count() == 9
    assert not converged(experts.award_id)

    processes.worker()
    processes.start(
        "beat",
        "-l",
        "INFO",
        "--schedule",
        str(processes.tmp_path / "beat-schedule"),
        name="beat",
        STANDINGS_REFRESH_SECONDS="1",
    )
    wait_until_converged(experts.award_id)


@pytest.fixture
def tarpit():
    """A photo host that sends its answer a byte every second: it holds whoever fetches."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Tarpit(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "600")
            self.end_headers()
            try:
                for _ in range(600):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tarpit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/photo.jpg"
    server.shutdown()


def test_a_photo_host_that_answers_a_byte_a_second_never_delays_the_standings(
    processes, experts, tarpit
):
    """The workers as docker-compose runs them: one for the standings, one for photo links."""
    from awards.tasks import nominee_photo_fetch_task

    nominee = NomineeFactory(category=experts)
    processes.worker("photos", settings.CELERY_PHOTO_QUEUE, PHOTO_FETCH_PRIVATE_ADDRESSES="true")
    processes.worker("worker", settings.CELERY_TASK_DEFAULT_QUEUE)
    nominee_photo_fetch_task.delay(nominee_id=nominee.pk, url=tarpit)
    processes.wait_for("photos", "nominee_photo_fetch_task")  # the tarpit holds it now
    cast_votes([nominee], {nominee.pk: 3})
    wait_until_converged(experts.award_id, timeout=15)
    # The fetch gave up at its own deadline, and the photo is unchanged.
    processes.wait_for("photos", "not received within", timeout=40)
    nominee.refresh_from_db()
    assert not nominee.photo
