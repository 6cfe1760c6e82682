"""The vote endpoint, every layer on, against a bare one-INSERT view, on one stack in one run.

    .venv/bin/python bench/vote_bench.py [--duration 20] [--rounds 3] [--connections 64]

Target: the vote endpoint reaches at least 60% of the bare view's requests/s, and a vote updates
no shared row. Every vote is a new voter with its own token, solved check and address, generated
before each run and sent once by wrk (bench/README.md).
"""

import math
import multiprocessing
import random
import secrets
import signal
import statistics
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import WRK_THREADS, Stack, arguments, medians, problems_of, save_results, sql

AWARD = "sbia-2012"
DIFFICULTY = 50
TARGET = 0.60  # vote/bare requests/s
BARE_LUA = 'wrk.method = "POST"\n'
VOTE_LUA = """
-- Thread n sends the lines of <file>.<n> once each, in order: a token is never sent twice.
local requests, sent, threads = {}, 0, 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args)
  for line in io.lines(args[1] .. "." .. id) do
    local path, body, cookie, address = line:match("^(.-)\\t(.-)\\t(.-)\\t(.-)$")
    requests[#requests + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json",
      ["Cookie"] = cookie, ["X-Forwarded-For"] = address, ["User-Agent"] = "wrk LaurelBench/vote",
    }, body)
  end
end
function request()
  sent = sent + 1
  if sent > #requests then
    if sent == #requests + 1 then io.stderr:write("EXHAUSTED\\n"); wrk.thread:stop() end
    return wrk.format("GET", "/robots.txt")
  end
  return requests[sent]
end
"""

COUNTS_SQL = """SELECT count(*) FILTER (WHERE ref = %(bare)s), count(*) FILTER (WHERE ref <> %(bare)s),
(SELECT count(*) FROM voting_ballot), count(DISTINCT voter_key) FILTER (WHERE ref <> %(bare)s),
count(*) FILTER (WHERE status = 'counted' AND ref <> %(bare)s),
count(*) FILTER (WHERE status = 'quarantined' AND ref <> %(bare)s) FROM voting_vote"""
NOMINEES: list[tuple[int, str]] = []  # (pk, slug), shuffled; set before the generator forks
ISSUED = datetime.now(UTC)


def vote_line(i: int) -> str:
    """Request number i: path, body, cookies and address, as a browser would send them."""
    from django.http import HttpResponse

    from voting.ballot.pow import challenge_issue, challenge_solve
    from voting.ballot.tokens import token_issue
    from voting.ballot.voters import COOKIE_NAME, COOKIE_SALT

    rng = random.Random(i)
    pk, slug = NOMINEES[i % len(NOMINEES)]
    key = secrets.token_hex(16)
    token = token_issue(voter_key=key, nominee_id=pk, now=ISSUED)
    challenge = challenge_issue(
        token_nonce=token.nonce, difficulty=DIFFICULTY, expires_at=token.expires_at
    )
    fields = {"token": token.value}
    fields["altcha"] = challenge_solve(challenge)
    signed = HttpResponse()  # signs the voter cookie exactly as the server does
    signed.set_signed_cookie(COOKIE_NAME, f"{key}.{int(ISSUED.timestamp())}", salt=COOKIE_SALT)
    if rng.random() < 0.2:  # a fifth over IPv6, each from its own /48
        address = f"2a{rng.randrange(256):02x}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::1"
    else:
        first = rng.choice([*range(11, 127), *range(128, 224)])
        address = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    cookie = f"{COOKIE_NAME}={signed.cookies[COOKIE_NAME].value}"
    return f"/{AWARD}/{slug}/vote/\t{urllib.parse.urlencode(fields)}\t{cookie}\t{address}"


def generate(path: Path, first: int, count: int, threads: int) -> None:
    global ISSUED
    # Issued a few seconds ago, so that no vote looks faster than a person reads and clicks.
    ISSUED = datetime.now(UTC) - timedelta(seconds=5)
    # The workers get SIGTERM's default back: Stack's handler would turn the pool's own
    # SIGTERM at exit into a SystemExit that can leave a worker hanging on a lock.
    reset = (signal.SIGTERM, signal.SIG_DFL)
    with multiprocessing.get_context("fork").Pool(
        initializer=signal.signal, initargs=reset
    ) as pool:
        lines = pool.map(vote_line, range(first, first + count), chunksize=500)
    for n in range(threads):
        Path(f"{path}.{n}").write_text("\n".join(lines[n::threads]) + "\n")


def preflight(url: str) -> None:
    """One generated vote by hand: it must count, or the generator is wrong."""
    path, body, cookie, address = vote_line(-1).split("\t")
    headers = {"Cookie": cookie, "X-Forwarded-For": address, "Accept": "application/json"}
    request = urllib.request.Request(url + path, body.encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read().decode()
    except urllib.error.HTTPError as error:
        answer = f"{error.code} {error.read().decode()[:500]}"
    if '"outcome": "counted"' not in answer:
        sys.exit(f"a generated vote was not counted: {answer}")


def database_counts() -> dict:
    """Rows the runs left: the bare view's, the votes' (with their ballots, voters, outcomes)."""
    from bench.urls import BARE_REF

    found = sql(COUNTS_SQL, {"bare": BARE_REF})[0]
    names = "bare_rows vote_rows ballots voters counted held".split()
    held = sql("SELECT reasons FROM voting_vote WHERE status = 'quarantined'")
    return dict(zip(names, found, strict=True)) | {
        "held_reasons": dict(Counter(code for (codes,) in held for code in codes.split()))
    }


def main() -> int:
    args = arguments(
        __doc__,
        duration=(20, "seconds per run"),
        rounds=(3, "rounds of bare + vote"),
        warmup=(3, "warm-up seconds per endpoint"),
        connections=(64, "wrk connections"),
    )
    updates = "SELECT relname, n_tup_upd FROM pg_stat_user_tables"  # a vote should only insert
    with Stack() as stack:
        from django import db

        from awards.models import Award, Nominee

        Award.objects.filter(slug=AWARD).update(pow_base_difficulty=DIFFICULTY)
        NOMINEES.extend(
            Nominee.objects.active().filter(award__slug=AWARD).values_list("pk", "slug")
        )
        random.Random(1).shuffle(NOMINEES)
        db.connections.close_all()  # before the generator forks; and its statistics flush
        time.sleep(1)
        updates_before = dict(sql(updates))
        stack.start(workers=3, threads=4)
        preflight(stack.url)
        runs: dict[str, list[dict]] = {"bare": [], "vote": []}
        for round_ in range(args.rounds + 1):  # round 0 is the warm-up
            seconds, c = (args.duration if round_ else args.warmup), args.connections
            label = f"round {round_}" if round_ else "warm-up"
            bare = stack.wrk("/bench/insert/", BARE_LUA, seconds=seconds, connections=c,
                             label=f"{label} bare")  # fmt: skip
            # Enough for 30% more than the bare view's best rate: a vote does more work.
            count = math.ceil(1.3 * max(run["rps"] for run in [*runs["bare"], bare]) * seconds)
            votes = stack.dir / f"votes{round_}"
            # Each batch goes on where the last run stopped, so nominees stay evenly spread.
            generate(votes, sum(run["requests"] for run in runs["vote"]), count, WRK_THREADS)
            vote = stack.wrk("/", VOTE_LUA, str(votes), seconds=seconds, connections=c,
                             label=f"{label} vote")  # fmt: skip
            runs["bare"].append(bare)
            runs["vote"].append(vote)
        stack.stop()  # requests in flight finish before the rows are counted
        time.sleep(1)
        db.connections.close_all()
        counts = database_counts()
        updated = {t: n - updates_before.get(t, 0) for t, n in sql(updates)}
        updated = {table: n for table, n in updated.items() if n}
        problems = [f"server log: {line}" for line in stack.errors()[:20]]

    bare, vote = medians(runs["bare"][1:]), medians(runs["vote"][1:])
    # Capacity: counted votes a second per core each part of the stack used (README's arithmetic).
    per_core = {
        role: statistics.median(run["rps"] / run["cores"][role] for run in runs["vote"][1:])
        for role in ("web", "postgres", "redis")
        if all(run["cores"].get(role) for run in runs["vote"][1:])
    }
    ratio = vote["rps"] / bare["rps"]
    answered = {n: sum(r["requests"] - r["non_2xx"] for r in runs[n]) for n in runs}
    answered["vote"] += 1  # the preflight
    # wrk stops the clock with up to one request in flight per connection; they still land.
    in_flight = {n: sum(args.connections + r["socket_errors"] for r in runs[n]) for n in runs}
    rows = {"bare": counts["bare_rows"], "vote": counts["vote_rows"]}
    rows_ok = all(0 <= rows[n] - answered[n] <= in_flight[n] for n in runs)
    rows_ok &= counts["vote_rows"] == counts["ballots"] == counts["voters"]
    problems += problems_of(runs)
    problems += [] if rows_ok else ["database rows do not match the 2xx answers"]
    problems += [f"rows updated during the runs: {updated}"] if updated else []
    passed = ratio >= TARGET and not problems
    per_round = [
        v["rps"] / b["rps"] for b, v in zip(runs["bare"][1:], runs["vote"][1:], strict=True)
    ]
    print(f"""
Median of {args.rounds} rounds of {args.duration} s, wrk -t{WRK_THREADS} -c{args.connections}, \
gunicorn gthread 3x4:
  endpoint            req/s   p50 ms   p99 ms
  bare one-INSERT  {bare["rps"]:>8.0f} {bare["p50_ms"]:>8.1f} {bare["p99_ms"]:>8.1f}
  vote endpoint    {vote["rps"]:>8.0f} {vote["p50_ms"]:>8.1f} {vote["p99_ms"]:>8.1f}
  vote/bare {ratio:.1%} (target {TARGET:.0%}): {"PASS" if ratio >= TARGET else "FAIL"}; \
rounds {", ".join(f"{r:.0%}" for r in per_round)}
Votes, all runs: {counts["counted"]} counted, {counts["held"]} held {counts["held_reasons"]}, \
{sum(run["non_2xx"] for run in runs["vote"])} refused (non-2xx)
Database: {rows["vote"]} votes, {counts["ballots"]} ballots, {counts["voters"]} voters for \
{answered["vote"]} 2xx answers; {rows["bare"]} bare rows for {answered["bare"]}: \
{"OK" if rows_ok else "MISMATCH"} (rows may exceed answers by the requests in flight at the end)
Rows updated during the runs (pg_stat_user_tables): {sum(updated.values())}
Votes a second per core used: {", ".join(f"{role} {n:.0f}" for role, n in per_core.items())}
Proof of work at difficulty {DIFFICULTY}, to spare the generator: the server checks a solution \
with one HMAC whatever the difficulty.
{"PASS" if passed else "FAIL"}""")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    counts |= {"answered_2xx": answered, "rows_ok": rows_ok, "rows_updated": updated}
    config = vars(args) | {"wrk_threads": WRK_THREADS, "pow_difficulty": DIFFICULTY}
    median = {"bare": bare, "vote": vote, "ratio": ratio, "target": TARGET, "per_core": per_core}
    save_results(
        {"config": config, "median": median, "passed": passed, "database": counts}
        | {"problems": problems, "runs": runs}
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
