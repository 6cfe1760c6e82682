"""Laurel as deployed, on services of the test's own, so that faults can be injected for real.

A private PostgreSQL cluster and a private Redis (the shared ones serve other sessions and must
never be stopped), gunicorn, a Celery worker and one beat in processes of their own, and a
stream of votes sent over HTTP as browsers send them. After the fault, `Tally` says what became
of every vote sent: recorded, refused (a clean answer, nothing written) or lost.
"""

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from deploy.local_nginx import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The newest server installed, as Debian lays them out (/usr/lib/postgresql/<major>/bin).
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
# Issued this long before they are sent, so that no vote looks faster than a person reads.
READ_FOR = timedelta(seconds=5)


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


class Redis:
    """A redis-server of this test's own, without persistence: a restart forgets everything."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(shutil.which("redis-server") or "redis-server", "--port", str(self.port)),
                *("--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Postgres:
    """A PostgreSQL cluster of this test's own, in a temporary directory, on a free port."""

    def __init__(self):
        # Not pytest's tmp_path: the server runs as postgres, which cannot enter root's 0700 dirs.
        self.directory = Path(tempfile.mkdtemp(prefix="laurel-faults-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/laurel"

    def command(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=60)

    def pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.command(
            str(PG_BIN / "pg_ctl"),
            action,
            *("-D", str(self.data), "-w", "-o", options, "-l", str(self.directory / "log")),
            *args,
        )

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self.command(
            str(PG_BIN / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N"),
        )
        self.pg_ctl("start")
        with psycopg.connect(self.url.replace("/laurel", "/postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE laurel")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()


def laurel_env(directory: Path, *, database_url: str, redis_url: str) -> dict[str, str]:
    """Real mode on the given services, with this test run's secret key (votes are signed
    here) and its collected static files; nothing else from the calling shell."""
    from django.conf import settings

    keep = ("PATH", "HOME", "LANG")
    return {name: os.environ[name] for name in keep if name in os.environ} | {
        "LAUREL_MODE": "real",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The test run's settings module and path, so that a variant runs in the stack too.
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "laurel.settings"),
        "LAUREL_VAR_DIR": str(directory / "var"),
        "STATIC_ROOT": str(settings.STATIC_ROOT),
        "STANDINGS_REFRESH_SECONDS": "1",
        "LAUREL_INSECURE_HTTP": "true",  # plain HTTP on loopback, no TLS proxy in front
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"manage.py {command} failed:\n{done.stderr[-3000:]}"
    return done.stdout


class Stack:
    """Laurel's processes for one scenario, each in a session of its own so it can be killed."""

    def __init__(self, directory: Path, postgres: Postgres, redis: Redis):
        self.directory = directory
        self.postgres = postgres
        self.redis = redis
        self.processes: dict[str, subprocess.Popen] = {}
        self.log_starts: dict[str, int] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = laurel_env(directory, database_url=postgres.url, redis_url=redis.url)

    def spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        with open(self.directory / f"{name}.log", "ab") as log:
            self.log_starts[name] = log.tell()  # a restarted process appends to its log
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env | env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def web(self, bind: str = "", **env: str) -> None:
        """gunicorn on its port, or on `bind` (a unix socket behind nginx: then self.url must
        already be nginx's)."""
        self.spawn(
            "web",
            str(BIN / "gunicorn"),
            *(
                "laurel.wsgi",
                "--bind",
                bind or f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
            ),
            *("--workers", "2", "--threads", "4", "--timeout", "30"),
            **env,
        )
        deadline = time.monotonic() + 60
        while not self.answers("/"):  # the home page: the web process and its database
            assert self.processes["web"].poll() is None, self.log("web")
            assert time.monotonic() < deadline, "gunicorn never answered:\n" + self.log("web")
            time.sleep(0.2)

    def worker(self, name: str = "worker", **env: str) -> None:
        self.spawn(
            name,
            str(BIN / "celery"),
            *("-A", "laurel", "worker", "-P", "solo", "-l", "INFO"),
            *("-n", f"{name}-{secrets.token_hex(3)}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            **env,
        )
        self.wait_for_log(name, "ready.")

    def beat(self, **env: str) -> None:
        schedule = self.directory / "beat-schedule"
        self.spawn(
            "beat",
            str(BIN / "celery"),
            *("-A", "laurel", "beat", "-l", "INFO", "--schedule", str(schedule)),
            **env,
        )
        self.wait_for_log("beat", "beat: Starting")

    def kill(self, name: str) -> None:
        """SIGKILL: no chance to finish, as when the machine or the OOM killer stops it."""
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)

    def answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")[-4000:]

    def wait_for_log(self, name: str, text: str, timeout: float = 60) -> None:
        """Until the latest run of `name` has logged `text`."""
        deadline = time.monotonic() + timeout
        path = self.directory / f"{name}.log"
        while text.encode() not in path.read_bytes()[self.log_starts[name] :]:
            assert self.processes[name].poll() is None, f"{name} exited:\n{self.log(name)}"
            assert time.monotonic() < deadline, f"{name} never said {text!r}:\n{self.log(name)}"
            time.sleep(0.1)

    def seed(self, slug: str, nominees: int = 12) -> "Award":
        """An award open for voting whose burst signal cannot hold a stream of test votes."""
        award_id, people = self.django(
            "from tests.factories import AwardFactory, CategoryFactory, NomineeFactory\n"
            f"award = AwardFactory(slug={slug!r}, burst_floor=1_000_000)\n"
            "category = CategoryFactory(award=award)\n"
            f"people = NomineeFactory.create_batch({nominees}, category=category)\n"
            "print(json.dumps([award.pk, [(n.pk, n.slug) for n in people]]))\n"
        )
        return Award(award_id, slug, [tuple(person) for person in people])

    def django(self, code: str):
        """Runs `code` with Django set up, as the stack's processes are; returns the JSON it
        printed last."""
        done = subprocess.run(
            [sys.executable, "-c", "import json, django; django.setup()\n" + code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Award:
    id: int
    slug: str
    nominees: list[tuple[int, str]]


@dataclass
class Answer:
    """One request of the stream and what came back."""

    kind: str  # "vote" or "page"
    sent_at: float
    answered_at: float
    status: int  # 0: no HTTP answer at all
    token: str = ""  # the vote token's nonce, as Vote.token stores it
    headers: dict = field(default_factory=dict)
    body: str = ""

    @property
    def clean_503(self) -> bool:
        """The outage answer: Retry-After, and the styled page or the JSON error."""
        if self.status != 503 or not self.headers.get("retry-after", "").isdigit():
            return False
        if self.kind == "vote":
            try:
                return json.loads(self.body)["outcome"] == "unavailable"
            except (ValueError, KeyError):
                return False
        return "Back in a moment" in self.body and 'class="site-header"' in self.body

    @property
    def broken(self) -> bool:
        """No answer at all, or a server error other than the clean outage answer."""
        return self.status == 0 or (self.status >= 500 and not self.clean_503)

    @property
    def said_recorded(self) -> bool:
        return self.kind == "vote" and self.status in (200, 202)


def vote_request(url: str, award: Award, nominee: tuple[int, str], rng: random.Random):
    """A vote as a browser with JavaScript sends it after reading the page: a new voter's
    cookie, the page's one-time token and solved browser check, from an address of its own."""
    from django.http import HttpResponse

    from voting.ballot.pow import challenge_issue, challenge_solve
    from voting.ballot.tokens import token_issue
    from voting.ballot.voters import COOKIE_NAME, COOKIE_SALT

    pk, slug = nominee
    issued = datetime.now(UTC) - READ_FOR
    key = secrets.token_hex(16)
    token = token_issue(voter_key=key, nominee_id=pk, now=issued)
    challenge = challenge_issue(token_nonce=token.nonce, difficulty=1, expires_at=token.expires_at)
    fields = {"token": token.value, "altcha": challenge_solve(challenge)}
    signed = HttpResponse()  # signs the voter cookie exactly as the server does
    signed.set_signed_cookie(COOKIE_NAME, f"{key}.{int(issued.timestamp())}", salt=COOKIE_SALT)
    address = f"{rng.randrange(11, 120)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"{COOKIE_NAME}={signed.cookies[COOKIE_NAME].value}",
        "X-Forwarded-For": address,  # gunicorn on loopback is a trusted proxy's peer
        "User-Agent": "Mozilla/5.0 (Laurel fault injection)",
    }
    request = urllib.request.Request(
        f"{url}/{award.slug}/{slug}/vote/", urllib.parse.urlencode(fields).encode(), headers
    )
    return request, token.nonce


class VoteStream:
    """Threads that vote (and now and then open a nominee's page) until stopped."""

    def __init__(self, url: str, award: Award, *, threads: int = 3, pause: float = 0.05):
        self.url, self.award, self.pause = url, award, pause
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.run, args=(random.Random(n),), daemon=True)
            for n in range(threads)
        ]

    def __enter__(self) -> "VoteStream":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def run(self, rng: random.Random) -> None:
        sent = 0
        while not self.stopping.is_set():
            nominee = rng.choice(self.award.nominees)
            if sent % 5 == 4:
                page = f"{self.url}/{self.award.slug}/{nominee[1]}/"
                self.send("page", urllib.request.Request(page, headers={"Accept": "text/html"}))
            else:
                self.send("vote", *vote_request(self.url, self.award, nominee, rng))
            sent += 1
            time.sleep(self.pause)

    def send(self, kind: str, request: urllib.request.Request, token: str = "") -> None:
        began = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        except OSError as error:  # no HTTP answer at all: refused, reset, timed out
            status, headers, body = 0, {}, str(error).encode()
        answer = Answer(
            kind=kind,
            sent_at=began,
            answered_at=time.monotonic(),
            status=status,
            token=token,
            headers={name.lower(): value for name, value in dict(headers).items()},
            body=body.decode(errors="replace"),
        )
        with self.lock:
            self.answers.append(answer)

    def count(self, kind: str = "vote", status: int | None = None) -> int:
        with self.lock:
            return sum(
                1
                for answer in self.answers
                if answer.kind == kind and (status is None or answer.status == status)
            )

    def wait_for(self, votes: int, timeout: float = 60) -> None:
        """Until `votes` more votes have been answered."""
        target = self.count() + votes
        deadline = time.monotonic() + timeout
        while self.count() < target:
            assert time.monotonic() < deadline, f"the stream stalled at {self.count()} votes"
            time.sleep(0.05)


@dataclass
class Tally:
    """What became of every vote sent: recorded, refused or lost. Lost must be 0."""

    scenario: str
    sent: int
    recorded: int
    refused: int
    lost_votes: int
    partial_writes: int
    broken_pages: int
    why_lost: list[str]
    statuses: dict[int, int]

    @property
    def lost(self) -> int:
        return self.lost_votes + self.partial_writes + self.broken_pages

    def __str__(self) -> str:
        return (
            f"{self.scenario}: sent {self.sent}, recorded {self.recorded}, refused "
            f"{self.refused}, lost {self.lost} (votes {self.lost_votes}, partial writes "
            f"{self.partial_writes}, pages answered 5xx {self.broken_pages}); "
            f"HTTP statuses {dict(sorted(self.statuses.items()))}"
        )


def tally(scenario: str, stream: VoteStream, postgres: Postgres, award: Award) -> Tally:
    """Each vote sent is recorded (its token is in the votes table), refused (a clean 4xx or
    503, nothing written) or lost: answered as recorded but not in the table, answered with any
    other 5xx, or not answered at all. Also lost: a write in part (a voter's clock claimed
    without its vote), and a page answered with a 5xx other than the clean 503."""
    stored = {
        token
        for (token,) in postgres.sql(
            "SELECT token FROM voting_vote WHERE award_id = %s", (award.id,)
        )
    }
    votes = [answer for answer in stream.answers if answer.kind == "vote"]
    recorded = refused = 0
    why_lost = []
    for vote in votes:
        if vote.broken:
            why_lost.append(f"vote answered {vote.status}: {vote.body[:200]}")
        elif vote.token in stored:
            recorded += 1
        elif vote.said_recorded:
            why_lost.append(f"vote answered {vote.status} but not in the table: {vote.body[:200]}")
        else:
            refused += 1
    broken_pages = [
        f"page answered {page.status}: {page.body[:200]}"
        for page in stream.answers
        if page.kind == "page" and page.broken
    ]
    # The claim of a voter's clock and the vote are one statement: neither without the other.
    (partial,) = postgres.sql(
        "SELECT count(*) FROM voting_ballot b WHERE b.award_id = %s AND NOT EXISTS "
        "(SELECT 1 FROM voting_vote v WHERE v.award_id = b.award_id "
        "AND v.voter_key = b.voter_key)",
        (award.id,),
    )[0]
    statuses: dict[int, int] = {}
    for answer in stream.answers:
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    assert recorded + refused + len(why_lost) == len(votes)
    return Tally(
        scenario,
        sent=len(votes),
        recorded=recorded,
        refused=refused,
        lost_votes=len(why_lost),
        partial_writes=partial,
        broken_pages=len(broken_pages),
        why_lost=(why_lost + broken_pages)[:10],
        statuses=statuses,
    )


def standings_and_raw_counts(postgres: Postgres, award: Award) -> tuple[dict, dict, int]:
    shown = dict(
        postgres.sql(
            "SELECT nominee_id, votes FROM voting_standing WHERE award_id = %s AND votes > 0",
            (award.id,),
        )
    )
    raw = dict(
        postgres.sql(
            "SELECT nominee_id, count(*) FROM voting_vote WHERE award_id = %s "
            "AND status = 'counted' GROUP BY nominee_id",
            (award.id,),
        )
    )
    (pending,) = postgres.sql(
        "SELECT count(*) FROM voting_tallydelta WHERE award_id = %s", (award.id,)
    )[0]
    return shown, raw, pending


def wait_until(condition, message: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def wait_until_standings_converge(postgres: Postgres, award: Award, timeout: float = 60) -> dict:
    """The standings equal a raw count of the counted votes, with nothing pending."""
    deadline = time.monotonic() + timeout
    while True:
        shown, raw, pending = standings_and_raw_counts(postgres, award)
        if raw and shown == raw and not pending:
            return raw
        assert time.monotonic() < deadline, (
            f"standings never converged: shown {shown}, raw {raw}, {pending} pending"
        )
        time.sleep(0.25)
