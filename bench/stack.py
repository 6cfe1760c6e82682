"""The stack every benchmark runs against, started and stopped in one place, and what they share.

    with Stack() as stack:          # the database recreated, migrated, seeded; its Redis database
        ...                         # emptied; Django set up in this process (same SECRET_KEY)
        stack.start(celery=True)    # gunicorn gthread on a free port (stack.url), a Celery worker
        stack.wrk("/bench/page/", seconds=10)
    # every process stopped, also on Ctrl-C, SIGTERM or an error

Real mode (PostgreSQL on 127.0.0.1:5432 as postgres, Redis on 127.0.0.1:6379), with Laurel's
defaults: the processes get only the variables below, whatever the calling shell exports.
LAUREL_BENCH_DATABASE (laurel_bench) and LAUREL_BENCH_REDIS_DB (9) choose the database that is
recreated and the Redis database that is emptied.
"""

import argparse
import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
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
DATABASE = os.environ.get("LAUREL_BENCH_DATABASE", "laurel_bench")
REDIS_DB = int(os.environ.get("LAUREL_BENCH_REDIS_DB", "9"))
if not re.fullmatch(r"[a-z_][a-z0-9_]*", DATABASE):
    sys.exit(f"LAUREL_BENCH_DATABASE must be a plain lower-case name, not {DATABASE!r}")
# The project's WSGI application and Celery app, as deployed.
WSGI, CELERY_APP = "laurel.wsgi", "laurel"
WRK_THREADS = 2
CHROMIUM = {"executable_path": "/usr/bin/chromium", "headless": True}  # Debian's, for Playwright
CHROMIUM["args"] = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUIET = {"limit": 900.0}  # seconds to wait for a quiet machine before measuring; 0 with --busy-ok
DONE_LUA = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "non_2xx": %d, ' ..
    '"socket_errors": %d, "p50_ms": %f, "p99_ms": %f}\\n', summary.requests,
    summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


class Stack:
    def __init__(self, settings: str = "bench.settings"):
        self.dir = Path(tempfile.mkdtemp(prefix="laurel-bench-"))
        self.url = ""
        self.processes: dict[str, subprocess.Popen] = {}
        # Processes of the stack started elsewhere (a proxy in front), by role: their master's pid.
        self.roots: dict[str, int] = {}
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

    def start(
        self, *, workers: int = 3, threads: int = 4, celery: bool = False, bind: str = ""
    ) -> None:
        """gunicorn on a free port (self.url), or on `bind` (a unix socket behind a proxy that
        answers at self.url, set before)."""
        if not bind:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            self.url, bind = f"http://127.0.0.1:{port}", f"127.0.0.1:{port}"
        # As deployed (deploy/gunicorn.conf.py), on a port of its own.
        self.spawn(
            "gunicorn",
            *("-c", "deploy/gunicorn.conf.py", WSGI, "--bind", bind),
            *("--workers", str(workers), "--threads", str(threads)),
        )
        if celery:  # with the one beat a deployment runs (-B): standings, re-assessments
            beat = ["-B", "-s", str(self.dir / "beat-schedule")]
            self.spawn("celery", "-A", CELERY_APP, "worker", *beat, *"-l WARNING -Q laurel".split())
        deadline = time.monotonic() + 60
        while not self.answers("/healthz"):
            exited = [name for name, p in self.processes.items() if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                sys.exit("the stack did not come up:\n" + "\n".join(self.errors()))
            time.sleep(0.2)

    def spawn(self, name: str, *args: str) -> None:
        with open(self.dir / f"{name}.log", "wb") as log:
            # A session of its own: Ctrl-C reaches this script, which then stops it in order.
            output = {"stdout": log, "stderr": log, "stdin": subprocess.DEVNULL}
            command = [BIN / name, *args]
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, start_new_session=True, **output
            )

    def answers(self, path: str) -> bool:
        """Whether the server answers at all (a 503 from /healthz, say with no beat, is up)."""
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
        return [
            f"{name}: {line.strip()}"
            for name in self.processes
            for line in (self.dir / f"{name}.log").read_text(errors="replace").splitlines()
            if any(word in line for word in ("Traceback", "ERROR", "CRITICAL", "Error:"))
        ]

    def wrk(self, path: str, lua: str = "", *args: str, seconds: int, connections: int = 64,
            header: str = "", label: str = "") -> dict:  # fmt: skip
        """wrk -t2 against `path` with the Lua script `lua` (given `args`), to which a done()
        reporting in JSON is added: requests/s, p50, p99, the cores each part of the stack and
        other processes used over the run, and `problems`: what makes the run doubtful. Printed
        under `label`, if given."""
        wait_until_quiet()  # another test run on this machine would skew the figures
        script = Path(tempfile.mkstemp(suffix=".lua", dir=self.dir)[1])
        script.write_text(lua + DONE_LUA)
        command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s"]
        command += ["--timeout", "10s", "-s", str(script), *(["-H", header] if header else [])]
        cpu, began = cpu_seconds(), time.monotonic()
        command += [self.url + path, "--", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        elapsed, after = time.monotonic() - began, cpu_seconds()
        found = re.search(r"^WRK (\{.*\})$", done.stdout, re.MULTILINE)
        if done.returncode or not found:
            sys.exit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
        run = json.loads(found[1])
        run["rps"] = run["requests"] / run["seconds"]
        roots = {"web" if n == "gunicorn" else n: p.pid for n, p in self.processes.items()}
        roots |= self.roots
        run["cores"], run["busy_elsewhere"] = cpu_used(cpu, after, elapsed, roots)
        doubts = {
            "non-2xx answers": run["non_2xx"],
            "socket errors": run["socket_errors"],
            "other processes used the CPU": run["busy_elsewhere"],
            # A script that sends each prepared request once says so when it runs out.
            "wrk ran out of requests": "EXHAUSTED" in done.stderr,
        }
        run["problems"] = [f"{what}: {n}" for what, n in doubts.items() if n]
        if label:
            print(
                f"{label}: {run['rps']:.0f} req/s, p50 {run['p50_ms']:.1f} ms, p99 "
                f"{run['p99_ms']:.1f} ms, non-2xx {run['non_2xx']}, socket errors "
                f"{run['socket_errors']}",
                flush=True,
            )
        return run


def medians(runs: list[dict]) -> dict:
    """Median requests/s, p50 and p99 of wrk runs."""
    return {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")}


def problems_of(runs: dict[str, list[dict]]) -> list[str]:
    """Every doubtful wrk run, by name and number."""
    return [
        f"{name} run {i}: {p}"
        for name in runs
        for i, r in enumerate(runs[name])
        for p in r["problems"]
    ]


def arguments(doc: str, **options: tuple) -> argparse.Namespace:
    """The command line: each option name=(default, help); every benchmark also takes
    --busy-ok, to measure without waiting for a quiet machine."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, (default, text) in options.items():
        flag = "--" + name.replace("_", "-")
        if default is None:
            parser.add_argument(flag, action="append", help=text)
        else:
            parser.add_argument(
                flag, type=type(default), default=default, help=f"{text} ({default})"
            )
    parser.add_argument("--busy-ok", action="store_true", help="do not wait for a quiet machine")
    args = parser.parse_args()
    QUIET["limit"] = 0 if args.busy_ok else QUIET["limit"]
    return args


def save_results(results: dict, *, stem: str = "") -> None:
    """bench/results/<stem, or the script's name>.json, with when, how, on what and at which
    commit the script measured."""
    import django
    from django.db import connection

    script = Path(sys.argv[0]).name
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    about = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", f"bench/{script}", *sys.argv[1:]]),
        "commit": commit.stdout.strip(),
        "machine": {"cpu_cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {
            "django": django.get_version(),
            connection.vendor: ".".join(map(str, connection.get_database_version())),
        },
    }
    path = ROOT / "bench" / "results" / f"{stem or Path(script).stem}.json"
    path.write_text(json.dumps(about | results, indent=1, default=str) + "\n")
    print(f"results: {path.relative_to(ROOT)}")


def percentiles(values: list) -> dict:
    """n, median, p90 and max of the values that are not None."""
    values = sorted(value for value in values if value is not None)
    at = lambda share: values[min(len(values) - 1, int(share * len(values)))]  # noqa: E731
    return {"n": len(values), "median": at(0.5), "p90": at(0.9), "max": at(1)} if values else {}


def sql(statement: str, params=None) -> list[tuple]:
    """Rows of one statement on Django's connection (none for a statement that returns none)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def psql(*commands: str) -> None:
    args = "psql -h 127.0.0.1 -U postgres -d postgres -q -v ON_ERROR_STOP=1".split()
    subprocess.run([*args, *(f"-c{command}" for command in commands)], check=True)


def redis_flush() -> None:
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "FLUSHDB"], check=True, capture_output=True)


def wait_until_quiet() -> None:
    """Wait (at most QUIET["limit"] seconds) while other processes keep the CPU busy."""
    waited = time.monotonic()
    while time.monotonic() - waited < QUIET["limit"]:
        before, _ = cpu_seconds(), time.sleep(2)
        if not (busy := cpu_used(before, cpu_seconds(), 2)[1]):
            return
        print(f"waiting for a quiet machine: {busy}", flush=True)


def cpu_used(before: dict, after: dict, seconds: float, roots: dict | None = None) -> tuple:
    """Cores used between two cpu_seconds(): by each part of the stack (the processes under
    each of `roots`, role -> pid; PostgreSQL and Redis by name), and by processes outside the
    benchmark, by name, when those add up to a quarter of a core."""
    parents = {pid: ppid for pid, (ppid, _, _) in after.items()}
    owner = {pid: role for role, pid in (roots or {}).items()} | {os.getpid(): ""}
    cores: dict[str, float] = {}
    elsewhere: dict[str, float] = {}
    for pid, (_, name, used) in after.items():
        share = (used - before.get(pid, (0, "", 0.0))[2]) / seconds
        role, ancestor = {"postgres": "postgres", "redis-server": "redis"}.get(name), pid
        while role is None and ancestor > 1:
            role, ancestor = owner.get(ancestor), parents.get(ancestor, 0)
        if role:
            cores[role] = round(cores.get(role, 0.0) + share, 3)
        elif role is None and share > 0.02:
            elsewhere[name] = round(elsewhere.get(name, 0.0) + share, 2)
    return cores, elsewhere if sum(elsewhere.values()) >= 0.25 else {}


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
