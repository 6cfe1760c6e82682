"""Vote endpoint vs. a bare one-INSERT Django view, on gunicorn + PostgreSQL + Redis.

    .venv/bin/python bench/vote_bench.py [--duration 20] [--connections 64] [--rounds 3]

What it does, start to finish (see bench/README.md):

1. drops and recreates the database ``laurel_bench``, migrates it and runs ``seed_demo``
   (984 nominees), then lifts every award's per-IP cap to 10,000,000/h: the rate-limit check
   still runs on every vote (its Redis round trips), it just never blocks;
2. starts gunicorn on 127.0.0.1 (a free port) with ``DJANGO_SETTINGS_MODULE=bench.settings``:
   Laurel's settings and URLs, in real mode, plus ``/bench/insert/`` (bench/urls.py);
3. drives it with ``wrk`` (64 connections, 2 threads), alternating the bare insert view and the
   real vote endpoint (every request a new voter, spread over all nominees), a short warm-up
   first, then ``--rounds`` measured rounds of each;
4. prints requests/s, p50 and p99 (median of the rounds), the ratio vote/bare against the 60%
   target, the CPU each request cost in gunicorn, PostgreSQL, Redis and wrk (from /proc),
   checks the database row counts against the 2xx responses wrk saw, and writes
   bench/results/vote_bench.json.

Exit status: 0 when the target is met and the run was clean, 1 when the target is missed or the
run had errors (non-2xx responses, socket errors, row counts that do not add up), 2 when a
prerequisite is missing (wrk, PostgreSQL, Redis). gunicorn is stopped in every case.
"""

import argparse
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
AWARD_SLUG = "sbia-2012"
BARE_PATH = "/bench/insert/"
BARE_REF = "bench-bare"  # bench/urls.py marks its rows with this ref
RATE_CAP = 10_000_000
RESULTS = ROOT / "bench" / "results" / "vote_bench.json"
# Laurel settings read from the environment (other than the ones this script sets) would change
# the stack under test: the benchmark measures their defaults, whatever the calling shell has
# exported. The names are read from awards/settings.py so that new settings are covered too.
SETTINGS_ENV_CALL = re.compile(r"""env(?:str|bool|int|float|list)\(\s*["']([A-Z0-9_]+)["']""")
ALWAYS_CLEARED_ENV = {"LAUREL_VAR_DIR", "DEBUG"}
# Where CPU time goes during a run, by process: gunicorn (master and workers), the PostgreSQL
# server (all its processes), Redis, wrk, and everything else on the machine.
CPU_GROUPS = ("gunicorn", "postgresql", "redis", "wrk", "other")

WRK_SCRIPT = """\
-- Written by bench/vote_bench.py for one wrk run; not meant to be edited.
local paths = {%(paths)s}
wrk.method = "POST"
wrk.body = %(body)s
%(headers)s
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed * 7919 + os.time())
end

function request()
  return wrk.format(nil, paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect_errors": %%d, ' ..
    '"read_errors": %%d, "write_errors": %%d, "timeouts": %%d, "non_2xx_3xx": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.timeout, e.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


class BenchError(Exception):
    """A prerequisite or a step failed: reported without a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def log(message: str) -> None:
    print(f"[vote_bench] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run (20)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of bare+vote, >= 2 (3)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint (3)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads/worker (4)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--target", type=float, default=0.60, help="vote/bare target (0.60)")
    parser.add_argument("--database", default="laurel_bench", help="database to recreate")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/9",
        help="Redis for cache and rate limits (database 9 by default; never flushed)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="JSON results (bench/results/vote_bench.json)"
    )
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2")
    if args.duration < 1 or args.connections < 1 or args.wrk_threads < 1:
        parser.error("--duration, --connections and --wrk-threads must be positive")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database must be a plain lower-case identifier")
    return args


# --- prerequisites --------------------------------------------------------------------------


def check_prerequisites(args: argparse.Namespace) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError(
            "wrk is not installed. On Debian/Ubuntu: `sudo apt-get install wrk` "
            "(as root: `apt-get update && apt-get install -y wrk`), then run this again.",
            code=2,
        )
    for tool in ("gunicorn",):
        if not (VENV_BIN / tool).exists():
            raise BenchError(f"{VENV_BIN / tool} is missing: run `make test` once first", code=2)
    import psycopg
    import redis

    try:
        psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as error:
        raise BenchError(f"PostgreSQL at {args.postgres} does not answer: {error}", 2) from None
    try:
        redis.Redis.from_url(args.redis_url, socket_timeout=3).ping()
    except redis.RedisError as error:
        raise BenchError(f"Redis at {args.redis_url} does not answer: {error}", 2) from None
    return wrk


# --- database and Django --------------------------------------------------------------------


def recreate_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def manage(env: dict, *command: str, timeout: int = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    return done.stdout


def django_setup(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare_data() -> list[str]:
    """Lift the per-IP caps; the slugs of the nominees the vote runs spread over."""
    from django.db import connections

    from awards.models import Award, Nominee

    Award.objects.update(ip_votes_per_hour=RATE_CAP)
    slugs = list(
        Nominee.objects.active().filter(award__slug=AWARD_SLUG).values_list("slug", flat=True)
    )
    connections.close_all()
    if not slugs:
        raise BenchError(f"seed_demo created no active nominees in {AWARD_SLUG}")
    return slugs


def count_rows() -> dict:
    from django.db import connections

    from voting.models import Ballot, Vote

    counts = {
        "bare_rows": Vote.objects.filter(ref=BARE_REF).count(),
        "vote_rows": Vote.objects.exclude(ref=BARE_REF).count(),
        "ballot_rows": Ballot.objects.count(),
        "distinct_voters": Vote.objects.exclude(ref=BARE_REF)
        .values("voter_key")
        .distinct()
        .count(),
    }
    connections.close_all()
    return counts


def server_versions() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()
    import django
    import gunicorn
    import psycopg
    import redis
    from django.conf import settings

    redis_version = redis.Redis.from_url(settings.REDIS_URL).info("server")["redis_version"]
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": postgres,
        "redis": redis_version,
    }


# --- gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(args: argparse.Namespace, port: int, logfile: Path) -> list[str]:
    return [
        str(VENV_BIN / "gunicorn"),
        "awards.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        args.worker_class,
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--error-logfile",
        str(logfile),
        "--log-level",
        "warning",
    ]


def start_gunicorn(command: list[str], env: dict, logfile: Path) -> subprocess.Popen:
    with open(logfile, "ab") as sink:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # a Ctrl-C reaches us, and we stop it in order
        )


def stop_gunicorn(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()  # SIGTERM to the master: it stops its own workers
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def request(port: int, method: str, path: str, body: str = "", headers=None, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body.encode(), headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(server: subprocess.Popen, port: int, logfile: Path, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}:\n{tail(logfile)}")
        try:
            status, _ = request(port, "GET", "/healthz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer /healthz within {limit:.0f}s:\n{tail(logfile)}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- CPU accounting (Linux /proc) ------------------------------------------------------------


def settings_env_names() -> set[str]:
    text = (ROOT / "awards" / "settings.py").read_text()
    return set(SETTINGS_ENV_CALL.findall(text)) | ALWAYS_CLEARED_ENV


def cpu_snapshot(server_pid: int) -> dict:
    """CPU seconds used so far, by group of processes.

    gunicorn and PostgreSQL are whole process trees (a master and the workers or backends it
    forks), so their totals include the CPU of children already reaped (cutime/cstime): a
    backend that exits mid-run hands its time to the postmaster instead of losing it. wrk is
    our child, measured by getrusage once reaped. "other" is per process, own time only.
    """
    tick = os.sysconf("SC_CLK_TCK")
    trees = {"gunicorn": 0.0, "postgresql": 0.0, "redis": 0.0}
    other: dict[tuple[int, str], float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                data = stat.read()
        except OSError:
            continue  # gone already
        comm = data[data.index("(") + 1 : data.rindex(")")]
        fields = data[data.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        own = (int(fields[11]) + int(fields[12])) / tick
        reaped = (int(fields[13]) + int(fields[14])) / tick
        if server_pid in (pid, ppid):
            trees["gunicorn"] += own + reaped
        elif comm == "postgres":
            trees["postgresql"] += own + reaped
        elif comm == "redis-server":
            trees["redis"] += own + reaped
        elif comm != "wrk":  # wrk: from getrusage below
            other[(pid, fields[19])] = own  # keyed by pid and start time
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"trees": trees, "other": other, "wrk": children.ru_utime + children.ru_stime}


def cpu_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per completed request, by group."""
    seconds = {group: after["trees"][group] - before["trees"][group] for group in after["trees"]}
    seconds["wrk"] = after["wrk"] - before["wrk"]
    seconds["other"] = sum(
        used - before["other"].get(key, 0.0) for key, used in after["other"].items()
    )
    return {group: max(0.0, seconds[group]) * 1000 / max(requests, 1) for group in CPU_GROUPS}


# --- load -----------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def write_wrk_script(path: Path, paths: list[str], body: str, headers: dict) -> Path:
    header_lines = "\n".join(
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in headers.items()
    )
    path.write_text(
        WRK_SCRIPT
        % {
            "paths": ", ".join(lua_string(p) for p in paths),
            "body": lua_string(body),
            "headers": header_lines,
        }
    )
    return path


def run_wrk(
    wrk: str,
    args: argparse.Namespace,
    port: int,
    script: Path,
    seconds: int,
    running: list,
    server_pid: int,
) -> dict:
    command = [
        wrk,
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    cpu_before = cpu_snapshot(server_pid)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    running.append(process)
    try:
        stdout, stderr = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        running.remove(process)
    cpu_after = cpu_snapshot(server_pid)
    match = re.search(r"^BENCH_JSON (\{.*\})$", stdout, re.MULTILINE)
    if process.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
    result = json.loads(match.group(1))
    seconds_run = result["duration_us"] / 1e6
    errors = (
        result["connect_errors"]
        + result["read_errors"]
        + result["write_errors"]
        + result["timeouts"]
    )
    result.update(
        {
            "requests_per_s": result["requests"] / seconds_run,
            "p50_ms": result["p50_us"] / 1000,
            "p90_ms": result["p90_us"] / 1000,
            "p99_ms": result["p99_us"] / 1000,
            "socket_errors": errors,
            "ok_2xx": result["requests"] - result["non_2xx_3xx"],
            "cpu_ms_per_request": cpu_per_request(cpu_before, cpu_after, result["requests"]),
            "command": shlex.join([*command[:-3], script.name, command[-1]]),
        }
    )
    return result


def preflight(port: int, vote_paths: list[str], vote_body: str, vote_headers: dict) -> dict:
    """One request to each endpoint, checked by hand before any load: 200 and a counted vote."""
    status, body = request(port, "POST", BARE_PATH)
    if status != 200:
        raise BenchError(f"bare view answered {status}: {body[:500]!r}")
    status, body = request(port, "POST", vote_paths[0], vote_body, vote_headers)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    if status != 200 or payload.get("outcome") != "counted":
        raise BenchError(f"vote endpoint answered {status}, not a counted vote: {body[:800]!r}")
    return {"bare": 1, "vote": 1}


# --- report ---------------------------------------------------------------------------------


def median_of(runs: list[dict]) -> dict:
    figures = {
        key: statistics.median(run[key] for run in runs)
        for key in ("requests_per_s", "p50_ms", "p90_ms", "p99_ms")
    }
    figures["cpu_ms_per_request"] = {
        group: statistics.median(run["cpu_ms_per_request"][group] for run in runs)
        for group in CPU_GROUPS
    }
    return figures


def print_table(bare: dict, vote: dict, ratio: float, target: float, rounds: int) -> None:
    verdict = "PASS" if ratio >= target else "FAIL"
    rows = [
        ("endpoint", "requests/s", "p50 ms", "p99 ms"),
        ("bare insert view", *_figures(bare)),
        ("vote endpoint", *_figures(vote)),
    ]
    print()
    print(f"Median of {rounds} rounds each:")
    for name, rps, p50, p99 in rows:
        print(f"  {name:<18} {rps:>11} {p50:>9} {p99:>9}")
    print(f"  vote/bare throughput: {ratio:.1%}  (target {target:.0%}): {verdict}")
    print()
    print("CPU per request, ms (median of rounds; 'other' is the rest of the machine):")
    print("  endpoint          " + "".join(f"{group:>11}" for group in CPU_GROUPS))
    for name, figures in (("bare insert view", bare), ("vote endpoint", vote)):
        cpu = figures["cpu_ms_per_request"]
        print(f"  {name:<18}" + "".join(f"{cpu[group]:>11.2f}" for group in CPU_GROUPS))


def rounded(figures: dict) -> dict:
    return {
        key: rounded(value) if isinstance(value, dict) else round(value, 3 if "cpu" in key else 2)
        for key, value in figures.items()
    }


def _figures(figures: dict) -> tuple[str, str, str]:
    return (
        f"{figures['requests_per_s']:.0f}",
        f"{figures['p50_ms']:.1f}",
        f"{figures['p99_ms']:.1f}",
    )


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wrk = check_prerequisites(args)

    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-"))
    logfile = workdir / "gunicorn.log"
    database_url = f"{args.postgres.rstrip('/')}/{args.database}"
    cleared = settings_env_names()
    env = {k: v for k, v in os.environ.items() if k not in cleared}
    env.update(
        {
            "LAUREL_MODE": "real",
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url,
            "SECRET_KEY": secrets.token_hex(32),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            # collectstatic's manifest, so templates that use {% static %} render in real mode
            "STATIC_ROOT": str(workdir / "static"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    server = None
    running_wrk: list[subprocess.Popen] = []
    try:
        log(f"recreating database {args.database}, migrating, seeding the demo award")
        recreate_database(args)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--no-input", "-v0")
        django_setup(env)
        slugs = prepare_data()
        versions = server_versions()

        csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        vote_paths = [f"/{AWARD_SLUG}/{slug}/vote/" for slug in slugs]
        vote_body = f"csrfmiddlewaretoken={csrf}"
        vote_headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",  # and no voter cookie: every request a new voter
        }
        bare_script = write_wrk_script(workdir / "bare.lua", [BARE_PATH], "", {})
        vote_script = write_wrk_script(workdir / "vote.lua", vote_paths, vote_body, vote_headers)

        port = free_port()
        command = gunicorn_command(args, port, logfile)
        log(f"starting {shlex.join(command[1:])}")
        server = start_gunicorn(command, env, logfile)
        wait_until_up(server, port, logfile)
        sent_ok = preflight(port, vote_paths, vote_body, vote_headers)

        runs: dict[str, list[dict]] = {"bare": [], "vote": []}
        scripts = {"bare": bare_script, "vote": vote_script}
        warmups: dict[str, dict] = {}
        if args.warmup > 0:
            for name in ("bare", "vote"):
                log(f"warm-up: {name}, {args.warmup}s")
                warmups[name] = run_wrk(
                    wrk, args, port, scripts[name], args.warmup, running_wrk, server.pid
                )
        for round_no in range(1, args.rounds + 1):
            for name in ("bare", "vote"):
                result = run_wrk(
                    wrk, args, port, scripts[name], args.duration, running_wrk, server.pid
                )
                runs[name].append(result)
                log(
                    f"round {round_no}/{args.rounds} {name:<4}: "
                    f"{result['requests_per_s']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                    f"p99 {result['p99_ms']:6.1f} ms  non-2xx {result['non_2xx_3xx']}  "
                    f"socket errors {result['socket_errors']}"
                )
        stop_gunicorn(server)  # in-flight requests finish before the rows are counted
        server_log = tail(logfile, 20)

        bare, vote = median_of(runs["bare"]), median_of(runs["vote"])
        ratio = vote["requests_per_s"] / bare["requests_per_s"]
        print_table(bare, vote, ratio, args.target, args.rounds)

        # Rows in the database against the 2xx responses wrk counted. wrk stops the clock with
        # up to one request in flight per connection; the server still completes those.
        every_run = {
            name: [*runs[name], *([warmups[name]] if name in warmups else [])] for name in runs
        }
        reported = {
            name: sum(r["ok_2xx"] for r in every_run[name]) + sent_ok[name] for name in runs
        }
        rows = count_rows()
        # A socket error or timeout can also leave a row without a 2xx, so those widen it.
        slack = {
            name: args.connections * len(every_run[name])
            + sum(r["socket_errors"] for r in every_run[name])
            for name in runs
        }
        checks = {
            "bare": rows["bare_rows"] - reported["bare"],
            "vote": rows["vote_rows"] - reported["vote"],
        }
        rows_ok = all(0 <= extra <= slack[name] for name, extra in checks.items()) and (
            rows["ballot_rows"] == rows["vote_rows"] == rows["distinct_voters"]
        )
        print()
        print("Database rows vs 2xx responses reported by wrk (all runs, warm-up included):")
        print(f"  bare: {rows['bare_rows']} rows, {reported['bare']} responses")
        print(
            f"  vote: {rows['vote_rows']} votes, {rows['ballot_rows']} ballots, "
            f"{rows['distinct_voters']} distinct voters, {reported['vote']} responses"
        )
        print(
            f"  {'OK' if rows_ok else 'MISMATCH'}: rows may exceed responses by at most "
            f"{slack['bare']} (bare) and {slack['vote']} (vote): one request in flight per "
            "connection when wrk stops"
        )

        problems = []
        for name, measured in runs.items():
            for index, result in enumerate(measured, start=1):
                bad = result["non_2xx_3xx"] + result["socket_errors"]
                if bad > max(10, 0.001 * result["requests"]):
                    problems.append(
                        f"{name} round {index}: {result['non_2xx_3xx']} non-2xx responses and "
                        f"{result['socket_errors']} socket errors in {result['requests']} requests"
                    )
        if not rows_ok:
            problems.append("database rows do not match the responses")
        if "Traceback" in server_log or "ERROR" in server_log:
            print("\ngunicorn log (last lines):\n" + server_log)

        results = {
            "benchmark": "vote endpoint vs bare one-INSERT view",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": shlex.join(
                [os.path.relpath(sys.executable, ROOT), "bench/vote_bench.py", *sys.argv[1:]]
            ),
            "machine": {
                "cpu_cores": os.cpu_count(),
                "platform": platform.platform(),
                **versions,
            },
            "load": {
                "tool": "wrk",
                "connections": args.connections,
                "threads": args.wrk_threads,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "warmup_s": args.warmup,
                "nominees": len(slugs),
                "bare_command": runs["bare"][0]["command"],
                "vote_command": runs["vote"][0]["command"],
            },
            "server": {
                "gunicorn": shlex.join(command[1:]).replace(str(logfile), "<log>"),
                "settings": "bench.settings (awards.settings, LAUREL_MODE=real)",
                "database": f"PostgreSQL, database {args.database}",
                "redis": args.redis_url,
            },
            "median": {"bare": rounded(bare), "vote": rounded(vote)},
            "ratio_vote_to_bare": round(ratio, 4),
            "target": args.target,
            "passed": ratio >= args.target and not problems,
            "rounds": {
                name: [
                    {
                        "requests": r["requests"],
                        "requests_per_s": round(r["requests_per_s"], 1),
                        "p50_ms": round(r["p50_ms"], 2),
                        "p90_ms": round(r["p90_ms"], 2),
                        "p99_ms": round(r["p99_ms"], 2),
                        "max_ms": round(r["max_us"] / 1000, 2),
                        "non_2xx": r["non_2xx_3xx"],
                        "socket_errors": r["socket_errors"],
                        "cpu_ms_per_request": {
                            group: round(ms, 3) for group, ms in r["cpu_ms_per_request"].items()
                        },
                    }
                    for r in measured
                ]
                for name, measured in runs.items()
            },
            "database_check": {
                **rows,
                "bare_2xx": reported["bare"],
                "vote_2xx": reported["vote"],
                "ok": rows_ok,
            },
            "problems": problems,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nResults written to {os.path.relpath(args.output, Path.cwd())}")

        if problems:
            print("\nPROBLEMS:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        return 0 if ratio >= args.target else 1
    except BenchError as error:
        print(f"\n[vote_bench] ERROR: {error}", file=sys.stderr)
        if server is not None:
            print(f"\ngunicorn log (last lines):\n{tail(logfile)}", file=sys.stderr)
        return error.code
    finally:
        for process in list(running_wrk):
            if process.poll() is None:
                process.kill()
        stop_gunicorn(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
