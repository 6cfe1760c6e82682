"""The stack every benchmark runs against, started and stopped in one place.

    with Stack() as stack:          # database laurel_bench recreated, migrated, seeded; Redis db 9
        ...                         # emptied; Django set up in this process (same SECRET_KEY)
        stack.start(celery=True)    # gunicorn gthread on a free port (stack.url), a Celery worker
        ...
    # every process stopped, also on Ctrl-C, SIGTERM or an error

Real mode (PostgreSQL on 127.0.0.1:5432 as postgres, Redis on 127.0.0.1:6379), with Laurel's
defaults: the processes get only the variables below, whatever the calling shell exports.
"""

import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE = "laurel_bench"
REDIS_DB = 9


class Stack:
    def __init__(self, settings: str = "laurel.settings"):
        self.dir = Path(tempfile.mkdtemp(prefix="laurel-bench-"))
        self.url = ""
        self.processes: dict[str, subprocess.Popen] = {}
        keep = ("PATH", "HOME", "LANG")
        self.env = {name: os.environ[name] for name in keep if name in os.environ}
        self.env |= {
            "LAUREL_MODE": "real",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "SECRET_KEY": secrets.token_hex(32),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": settings,
            "STATIC_ROOT": str(self.dir / "static"),
            "LAUREL_VAR_DIR": str(self.dir / "var"),
            # Plain HTTP on loopback, as behind a TLS-terminating proxy on this machine.
            "LAUREL_INSECURE_HTTP": "true",
        }

    def __enter__(self) -> "Stack":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that __exit__ runs
        # One benchmark at a time: each recreates the same database and empties the same Redis.
        self.lock = open(tempfile.gettempdir() + "/laurel-bench.lock", "w")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("waiting for another benchmark to finish", flush=True)
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            redis_flush()
            psql(
                "SET client_min_messages = warning",
                f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
                f"CREATE DATABASE {DATABASE}",
            )
            for command in ("migrate --no-input", "collectstatic --no-input", "seed_demo"):
                self.manage(*command.split())
            os.environ.update(self.env)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        redis_flush()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.lock.close()

    def manage(self, *command: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, capture_output=True
        )
        if done.returncode:
            sys.exit(f"manage.py {' '.join(command)} failed:\n{done.stderr.decode()[-3000:]}")

    def start(self, *, workers: int = 3, threads: int = 4, celery: bool = False) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        # As deployed (deploy/gunicorn.conf.py), on a port of its own.
        self.spawn(
            "gunicorn",
            *("-c", "deploy/gunicorn.conf.py", "laurel.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", str(workers), "--threads", str(threads)),
        )
        if celery:
            # With the one beat a deployment runs (-B): standings, re-assessment after outages.
            schedule = str(self.dir / "beat-schedule")
            self.spawn(
                "celery",
                "-A",
                "laurel",
                "worker",
                "-B",
                "-s",
                schedule,
                "-l",
                "WARNING",
                "-Q",
                "laurel",
            )
        deadline = time.monotonic() + 60
        while not self.answers("/healthz"):
            exited = [name for name, p in self.processes.items() if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                sys.exit("the stack did not come up:\n" + "\n".join(self.errors()))
            time.sleep(0.2)

    def spawn(self, name: str, *args: str) -> None:
        with open(self.dir / f"{name}.log", "wb") as log:
            # A session of its own: Ctrl-C reaches this script, which then stops it in order.
            self.processes[name] = subprocess.Popen(
                [BIN / name, *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def answers(self, path: str) -> bool:
        """Whether the server answers at all: /healthz may say 503 (say, standings not yet
        recomputed with no beat running), which still means it is up."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=2):
                return True
        except urllib.error.HTTPError as error:
            return error.code < 500 or error.code == 503
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s; in-flight requests and tasks finish first."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def errors(self) -> list[str]:
        """Lines of the processes' logs that report an error (Django logs each 500 with one)."""
        lines = []
        for name in self.processes:
            text = (self.dir / f"{name}.log").read_text(errors="replace")
            for line in text.splitlines():
                if any(word in line for word in ("Traceback", "ERROR", "CRITICAL", "Error:")):
                    lines.append(f"{name}: {line.strip()}")
        return lines


def save_results(name: str, results: dict, *, stem: str | None = None) -> None:
    """bench/results/<stem or name>.json, with when, how and on what bench/<name>.py measured."""
    import django
    from django.db import connection

    about = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", f"bench/{name}.py", *sys.argv[1:]]),
        "machine": {"cpu_cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {
            "django": django.get_version(),
            connection.vendor: ".".join(map(str, connection.get_database_version())),
        },
    }
    path = ROOT / "bench" / "results" / f"{stem or name}.json"
    path.write_text(json.dumps(about | results, indent=1, default=str) + "\n")


def psql(*commands: str) -> None:
    args = "psql -h 127.0.0.1 -U postgres -d postgres -q -v ON_ERROR_STOP=1".split()
    subprocess.run([*args, *(f"-c{command}" for command in commands)], check=True)


def redis_flush() -> None:
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as redis:
        redis.sendall(f"SELECT {REDIS_DB}\r\nFLUSHDB\r\n".encode())
        replies = b""
        while replies.count(b"\r\n") < 2:
            replies += redis.recv(64) or b"\r\n\r\n"


def wrk(
    command: list[str], *, timeout: float, wait: bool = True, roots: dict[str, int] | None = None
) -> tuple[dict, str]:
    """Run wrk, whose Lua script's done() prints one line "WRK {json}": that JSON with requests/s
    and, over the run, the cores other processes used (and, given `roots`, the cores each part
    of the stack used), and wrk's stderr. A failed run ends the benchmark."""
    if wait:
        wait_until_quiet()  # another test run on this machine would skew the figures
    cpu, began = cpu_seconds(), time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    elapsed, after = time.monotonic() - began, cpu_seconds()
    found = re.search(r"^WRK (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode or not found:
        sys.exit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(found[1])
    result["rps"] = result["requests"] / result["seconds"]
    result["busy_elsewhere"] = busy_elsewhere(cpu, after, elapsed)
    if roots is not None:
        result["cores"] = cores_by_role(cpu, after, elapsed, roots)
    return result, done.stderr


def wait_until_quiet(limit: float = 900) -> None:
    """Wait (at most `limit` seconds) while other processes keep the CPU busy: a test run, say."""
    waited = time.monotonic()
    while time.monotonic() - waited < limit:
        before, _ = cpu_seconds(), time.sleep(2)
        busy = busy_elsewhere(before, cpu_seconds(), 2)
        if not busy:
            return
        print(f"waiting for a quiet machine: {busy}", flush=True)


def busy_elsewhere(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Cores used by processes outside this benchmark, by name, when they add up to a quarter.

    PostgreSQL and Redis are left out: they serve the benchmark too.
    """
    parents = {pid: ppid for pid, (ppid, _, _) in after.items()}
    busy: dict[str, float] = {}
    for pid, (_, name, used) in after.items():
        share = (used - before.get(pid, (0, "", 0.0))[2]) / seconds
        if share > 0.02 and name not in ("postgres", "redis-server"):
            while pid > 1 and pid != os.getpid():
                pid = parents.get(pid, 0)
            if pid != os.getpid():
                busy[name] = round(busy.get(name, 0) + share, 2)
    return busy if sum(busy.values()) >= 0.25 else {}


def cores_by_role(before: dict, after: dict, seconds: float, roots: dict[str, int]) -> dict:
    """Cores each part of the stack used: the processes under each of `roots` (name -> pid, as
    Stack.processes), and PostgreSQL and Redis by name."""
    parents = {pid: ppid for pid, (ppid, _, _) in after.items()}
    owner = {pid: role for role, pid in roots.items()}
    cores: dict[str, float] = {}
    for pid, (_, name, used) in after.items():
        role = {"postgres": "postgres", "redis-server": "redis"}.get(name)
        ancestor = pid
        while role is None and ancestor > 1:
            role, ancestor = owner.get(ancestor), parents.get(ancestor, 0)
        if role is not None:
            share = (used - before.get(pid, (0, "", 0.0))[2]) / seconds
            cores[role] = round(cores.get(role, 0.0) + share, 3)
    return cores


def cpu_seconds() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, name, CPU seconds used so far)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # gone already
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        fields = fields.split()
        found[int(pid)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / CLOCK)
    return found


CLOCK = os.sysconf("SC_CLK_TCK")
