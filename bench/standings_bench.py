"""Standings recompute on PostgreSQL: catch-up, steady state, idle and full rebuild, 1M and 10M votes.

    .venv/bin/python bench/standings_bench.py [--sizes 1000000,10000000] [--repeats 5]

What it does, start to finish (see bench/README.md):

1. drops and recreates the database ``laurel_bench_standings``, migrates it and runs
   ``seed_demo`` (984 nominees), adds 16 nominees to reach exactly 1,000, and runs one
   recompute so that every nominee has its Standing row at zero votes;
2. for each size N: empties the votes and tally tables and generates N votes with SQL
   (``INSERT ... SELECT`` over ``generate_series``), spread over the nominees by a Zipf law
   (a few nominees go viral), 97% counted, 2% void, 1% quarantined, plus the TallyDelta rows
   the application would have left: +1 per vote cast, and -1 for each vote since voided or
   quarantined; then ``VACUUM ANALYZE`` (this server runs with autovacuum off, so the script
   vacuums where autovacuum would have);
3. times ``standings_recompute`` in these scenarios: catch-up (all N votes pending, the first
   recompute after seeding), steady state (1,000 and 10,000 new votes since the last recompute,
   each batch also voiding 10 older votes through ``votes_set_status``), steady state again
   before any vacuum of the drained TallyDelta rows, idle (nothing new); and
   ``standings_rebuild`` (the full recount) for comparison. Every timed call logs its SQL
   statements, so the table says which statement dominates;
4. checks, before and after the rebuild, that every nominee's ``Standing.votes`` equals
   ``raw_counts`` (a COUNT of its counted votes), that the snapshot total matches, and that the
   ranks are those of the counts; prints a table, PASS/FAIL for the 1-second target, and writes
   bench/results/standings_bench.json.

Before every timed measurement (and before every bulk load) it waits until no ``wrk`` and no
``bench/vote_bench.py`` process is running, so that the two benchmarks do not disturb each
other.

Exit status: 0 when the standings are exact and the steady-state recompute at 1M votes meets the
target; 1 when exactness fails or the target is missed; 2 when a prerequisite is missing.
"""

import argparse
import bisect
import hashlib
import json
import os
import platform
import random
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.vote_bench import (  # noqa: E402
    BenchError,
    manage,
    recreate_database,
    settings_env_names,
)

AWARD_SLUG = "sbia-2012"
TARGET_NOMINEES = 1_000
RESULTS = ROOT / "bench" / "results" / "standings_bench.json"
SLOTS = 1_000_000  # resolution of the nominee popularity table (the least popular gets ~130)
VOIDED_PER_BATCH = 10  # older counted votes voided by votes_set_status in each steady batch
# The application's user agents and share channels, in rough proportions.
USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (compatible; Twitterbot/1.0)",
]


def log(message: str) -> None:
    print(f"[standings_bench] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000000,10000000",
        help="vote counts to benchmark, comma-separated (1000000,10000000)",
    )
    parser.add_argument(
        "--batches",
        default="1000,10000",
        help="new votes per steady-state recompute, comma-separated (1000,10000)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="steady-state and idle repetitions (5)"
    )
    parser.add_argument(
        "--catchup-repeats",
        default="3",
        help="catch-up repetitions per size, in the order of --sizes; the last value applies "
        "to further sizes (3)",
    )
    parser.add_argument("--rebuild-repeats", type=int, default=3, help="full rebuilds (3)")
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of popularity (1.0)")
    parser.add_argument("--seed", type=int, default=2012, help="random seed (2012)")
    parser.add_argument("--target", type=float, default=1.0, help="seconds per recompute (1.0)")
    parser.add_argument(
        "--target-size",
        type=int,
        default=1_000_000,
        help="the size the target applies to (1000000)",
    )
    parser.add_argument(
        "--wait-limit",
        type=int,
        default=3600,
        help="seconds to wait for wrk / vote_bench.py to finish before giving up (3600)",
    )
    parser.add_argument("--database", default="laurel_bench_standings", help="database to recreate")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL, without a database name (a superuser: bulk loads switch "
        "off foreign-key triggers)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/9",
        help="Redis for the cache (database 9 by default; never flushed)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="JSON results (bench/results/standings_bench.json)",
    )
    args = parser.parse_args()
    try:
        args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
        args.batches = [int(x) for x in args.batches.split(",") if x.strip()]
        args.catchup_repeats = [int(x) for x in args.catchup_repeats.split(",") if x.strip()]
    except ValueError:
        parser.error("--sizes, --batches and --catchup-repeats take comma-separated integers")
    if not args.sizes or min(args.sizes) < 1000 or not args.batches or min(args.batches) < 1:
        parser.error("--sizes must be at least 1000 votes, --batches at least 1")
    if args.repeats < 1 or args.rebuild_repeats < 1 or min(args.catchup_repeats or [0]) < 1:
        parser.error("repetitions must be at least 1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database must be a plain lower-case identifier")
    return args


# --- waiting for the other benchmark ---------------------------------------------------------


class Quiet:
    """Waits until no wrk (and no bench/vote_bench.py) runs; counts the time spent waiting."""

    def __init__(self, limit: int):
        self.limit = limit
        self.waited = 0.0

    @staticmethod
    def busy() -> list[str]:
        found = []
        wrk = subprocess.run(["pgrep", "-x", "wrk"], capture_output=True, text=True)
        found += [f"wrk (pid {pid})" for pid in wrk.stdout.split()]
        bench = subprocess.run(
            ["pgrep", "-f", "bench/vote_bench.py"], capture_output=True, text=True
        )
        found += [
            f"vote_bench.py (pid {pid})" for pid in bench.stdout.split() if int(pid) != os.getpid()
        ]
        return found

    def wait(self, what: str) -> None:
        start = time.monotonic()
        announced = False
        calm = 0
        while calm < 2:  # two clear looks a second apart: vote_bench starts wrk runs back to back
            found = self.busy()
            if found:
                calm = 0
                if not announced:
                    log(f"before {what}: waiting for {', '.join(found)} to finish")
                    announced = True
                if time.monotonic() - start > self.limit:
                    raise BenchError(f"still busy after {self.limit}s: {', '.join(found)}")
                time.sleep(2)
            else:
                calm += 1
                if calm < 2:
                    time.sleep(1 if announced else 0.05)
        spent = time.monotonic() - start
        self.waited += spent
        if announced:
            log(f"  ... clear after {spent:.0f}s")


# --- Django and SQL helpers -------------------------------------------------------------------


def django_setup(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def sql(statement: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def one(statement: str, params=None):
    rows = sql(statement, params)
    return rows[0][0] if rows else None


class StatementLog:
    """A Django execute wrapper: every SQL statement a timed call runs, with its duration."""

    def __init__(self):
        self.entries: list[tuple[str, float]] = []

    def __call__(self, execute, statement, params, many, context):
        start = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            self.entries.append((statement, time.perf_counter() - start))

    @staticmethod
    def label(statement: str) -> str:
        text = re.sub(r"\s+", " ", statement.replace('"', "")).strip()
        return text[:90]

    def summary(self) -> dict:
        groups: dict[str, list[float]] = {}
        for statement, seconds in self.entries:
            groups.setdefault(self.label(statement), []).append(seconds)
        return {
            "sql_seconds": sum(seconds for _s, seconds in self.entries),
            "statements": len(self.entries),
            "by_statement": sorted(
                (
                    {"sql": label, "count": len(times), "seconds": sum(times)}
                    for label, times in groups.items()
                ),
                key=lambda entry: -entry["seconds"],
            ),
        }


def timed(call, **kwargs) -> tuple[float, dict, object]:
    """Wall time of call(**kwargs), and a profile of the SQL it ran."""
    from django.db import connection

    statements = StatementLog()
    with connection.execute_wrapper(statements):
        start = time.perf_counter()
        result = call(**kwargs)
        seconds = time.perf_counter() - start
    profile = statements.summary()
    profile["python_seconds"] = max(0.0, seconds - profile["sql_seconds"])
    return seconds, profile, result


def vacuum_analyze(*tables: str) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - start


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    return sql(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        ORDER BY i.relname
        """,
        [table],
    )


def bulk_load(table: str, statements: list[tuple[str, dict]]) -> None:
    """Run INSERTs into `table` as a bulk load: its secondary indexes dropped and rebuilt after,
    foreign-key triggers off (the rows reference existing nominees by construction).

    The table ends with exactly the indexes it had, freshly built, and the same constraints.
    """
    from django.db import connection, transaction

    indexes = secondary_indexes(table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for statement, params in statements:
            cursor.execute(statement, params)
        for _name, definition in indexes:
            cursor.execute(definition)
    if secondary_indexes(table) != indexes:
        raise BenchError(f"the indexes of {table} did not come back as they were")


# --- data -------------------------------------------------------------------------------------


def tables() -> dict[str, str]:
    from awards.models import Category, Nominee
    from voting.models import Standing, StandingsSnapshot, TallyDelta, Vote

    return {
        "nominee": Nominee._meta.db_table,
        "category": Category._meta.db_table,
        "vote": Vote._meta.db_table,
        "delta": TallyDelta._meta.db_table,
        "standing": Standing._meta.db_table,
        "snapshot": StandingsSnapshot._meta.db_table,
    }


def complete_nominees(award) -> int:
    """seed_demo's 984 nominees, plus enough to reach exactly TARGET_NOMINEES."""
    from awards.models import Nominee

    have = Nominee.objects.filter(award=award).count()
    categories = list(award.categories.order_by("display_order", "id"))
    extra = [
        Nominee(
            award=award,
            category=categories[index % len(categories)],
            name=f"Bench Nominee {index + 1:02d}",
            slug=f"bench-nominee-{index + 1:02d}",
            headline="Added by bench/standings_bench.py",
            twitter_handle=f"benchnominee{index + 1:02d}",
            audience_size=1000 + index,
        )
        for index in range(max(0, TARGET_NOMINEES - have))
    ]
    Nominee.objects.bulk_create(extra)
    total = Nominee.objects.filter(award=award).count()
    if total != TARGET_NOMINEES:
        raise BenchError(f"expected {TARGET_NOMINEES} nominees, found {total}")
    return len(extra)


def popularity_table(award, zipf: float, seed: int, t: dict) -> dict:
    """bench_slot(slot, nominee_id, category_id): SLOTS rows, each active nominee owning a run
    of slots proportional to 1/rank**zipf, ranks shuffled over the nominees. A vote's nominee is
    a uniformly random slot."""
    from awards.models import Nominee

    nominees = list(
        Nominee.objects.filter(award=award, is_active=True)
        .order_by("id")
        .values_list("id", "category_id")
    )
    random.Random(seed).shuffle(nominees)
    weights = [1 / (rank**zipf) for rank in range(1, len(nominees) + 1)]
    total = sum(weights)
    ranges, first = [], 0
    cumulative = 0.0
    for (nominee_id, category_id), weight in zip(nominees, weights, strict=True):
        cumulative += weight
        last = max(first, round(cumulative / total * SLOTS)) - 1
        if last < first:
            raise BenchError("popularity table too coarse: a nominee got no slot")
        ranges.append((nominee_id, category_id, first, last))
        first = last + 1
    sql("DROP TABLE IF EXISTS bench_slot")
    sql("CREATE TABLE bench_slot (slot int PRIMARY KEY, nominee_id bigint, category_id bigint)")
    sql(
        """
        INSERT INTO bench_slot
        SELECT generate_series(r.first, r.last), r.nominee_id, r.category_id
        FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::int[])
            AS r(nominee_id, category_id, first, last)
        """,
        [
            [r[0] for r in ranges],
            [r[1] for r in ranges],
            [r[2] for r in ranges],
            [r[3] for r in ranges],
        ],
    )
    sql("ANALYZE bench_slot")
    slots = one("SELECT count(*) FROM bench_slot")
    if slots != SLOTS:
        raise BenchError(f"popularity table has {slots} slots, expected {SLOTS}")
    shares = [(last - first + 1) / SLOTS for _n, _c, first, last in ranges]
    return {
        "nominees_receiving_votes": len(nominees),
        "zipf_exponent": zipf,
        "top_nominee_share": round(shares[0], 4),
        "top_10_share": round(sum(shares[:10]), 4),
        "least_popular_share": round(shares[-1], 6),
    }


VOTES_SQL = """
INSERT INTO {vote}
    (award_id, nominee_id, category_id, created_at, voter_key, ip, user_agent, ref, status)
SELECT
    %(award)s, s.nominee_id, s.category_id,
    %(start)s::timestamptz + (v.g::float8 / %(n)s) * %(span)s::interval
        + v.r_jitter * interval '90 seconds',
    md5('voter:' || %(seed)s || ':' || floor(v.r_voter * v.r_voter * %(voters)s)::bigint),
    CASE WHEN v.r_ip < 0.8 THEN
        (1 + floor(v.r_voter * 223))::int || '.' || floor(v.r_ip * 65536)::int %% 256 || '.'
        || floor(v.r_ip * 16777216)::int %% 256 || '.' || floor(v.r_jitter * 254 + 1)::int
    ELSE
        '2001:db8:' || to_hex(floor(v.r_ip * 65536)::int) || ':'
        || to_hex(floor(v.r_voter * 65536)::int) || '::/64'
    END,
    (%(agents)s::text[])[1 + floor(v.r_agent * %(agent_count)s)::int],
    CASE WHEN v.r_ref < 0.70 THEN '' WHEN v.r_ref < 0.85 THEN 'twitter'
         WHEN v.r_ref < 0.95 THEN 'facebook' ELSE 'linkedin' END,
    CASE WHEN v.r_status < %(counted)s THEN 'counted'
         WHEN v.r_status < %(counted)s + %(void)s THEN 'void' ELSE 'quarantined' END
FROM (
    SELECT g, floor(random() * %(slots)s)::int AS slot, random() AS r_voter, random() AS r_ip,
           random() AS r_agent, random() AS r_ref, random() AS r_status, random() AS r_jitter
    FROM generate_series(%(first)s, %(last)s) AS g
    OFFSET 0
) AS v
JOIN bench_slot AS s ON s.slot = v.slot
"""

# What the application leaves in TallyDelta: +1 when a vote is cast (vote_cast), -1 when it is
# later voided or quarantined (votes_set_status), in that order.
DELTAS_SQL = [
    "INSERT INTO {delta} (award_id, nominee_id, amount) "
    "SELECT award_id, nominee_id, 1 FROM {vote} WHERE id > %(after)s ORDER BY id",
    "INSERT INTO {delta} (award_id, nominee_id, amount) "
    "SELECT award_id, nominee_id, -1 FROM {vote} WHERE id > %(after)s AND status <> 'counted' "
    "ORDER BY id",
]


class Generator:
    def __init__(self, award, args, t: dict):
        self.award, self.args, self.t = award, args, t
        self.generated = 0  # votes generated so far for this size (drives created_at)
        self.batch_seed = 0

    def params(self, first: int, last: int, n: int) -> dict:
        opens = self.award.voting_opens
        return {
            "award": self.award.pk,
            "start": opens,
            "span": timedelta(days=30),
            "n": n,
            "seed": self.args.seed,
            "voters": max(1000, n // 4),
            "agents": USER_AGENTS,
            "agent_count": len(USER_AGENTS),
            "counted": 0.97,
            "void": 0.02,
            "slots": SLOTS,
            "first": first,
            "last": last,
        }

    def setseed(self, salt: int) -> None:
        # setseed takes [-1, 1]: a deterministic value per (seed, salt)
        value = (hash((self.args.seed, salt)) % 2_000_001) / 1_000_000 - 1
        sql("SELECT setseed(%s)", [value])

    def bulk(self, n: int) -> dict:
        """n votes and their deltas into empty tables, as a bulk load."""
        t = self.t
        self.setseed(n)
        start = time.perf_counter()
        bulk_load(t["vote"], [(VOTES_SQL.format(**t), self.params(1, n, n))])
        votes_s = time.perf_counter() - start
        start = time.perf_counter()
        deltas_s = self.deltas(after=0)
        vacuum_s = vacuum_analyze(t["vote"], t["delta"])
        self.generated = n
        return {
            "votes_seconds": round(votes_s, 1),
            "deltas_seconds": round(deltas_s, 1),
            "vacuum_analyze_seconds": round(vacuum_s, 1),
        }

    def deltas(self, after: int) -> float:
        start = time.perf_counter()
        bulk_load(self.t["delta"], [(s.format(**self.t), {"after": after}) for s in DELTAS_SQL])
        return time.perf_counter() - start

    def batch(self, size: int) -> None:
        """`size` new votes arriving after the bulk, with their deltas (ordinary inserts, all
        indexes and foreign keys live), and VOIDED_PER_BATCH older counted votes voided through
        the application's votes_set_status."""
        from django.db import transaction

        from voting.integrity.holds import votes_set_status

        t = self.t
        self.batch_seed += 1
        self.setseed(1_000_000 + self.batch_seed)
        after = one(f"SELECT coalesce(max(id), 0) FROM {t['vote']}")
        first = self.generated + 1
        with transaction.atomic():
            sql(VOTES_SQL.format(**t), self.params(first, first + size - 1, self.generated + size))
            for statement in DELTAS_SQL:
                sql(statement.format(**t), {"after": after})
        self.generated += size
        rng = random.Random(self.batch_seed)
        low = rng.randint(1, max(1, after - 1000))
        older = [
            row[0]
            for row in sql(
                f"SELECT id FROM {t['vote']} WHERE id >= %s AND id <= %s AND status = 'counted' "
                "ORDER BY id LIMIT %s",
                [low, after, VOIDED_PER_BATCH],
            )
        ]
        votes_set_status(vote_ids=older, status="void")


# --- checks -----------------------------------------------------------------------------------


def exactness(award_id: int) -> dict:
    """Standing.votes against a raw COUNT of counted votes, per nominee; totals; ranks."""
    from awards.models import Nominee
    from voting.models import Standing, StandingsSnapshot, TallyDelta
    from voting.standings.services import raw_counts

    start = time.perf_counter()
    counts = raw_counts(award_id=award_id)
    count_seconds = time.perf_counter() - start
    nominees = dict(Nominee.objects.filter(award_id=award_id).values_list("id", "is_active"))
    rows = {
        row["nominee_id"]: row
        for row in Standing.objects.filter(award_id=award_id).values(
            "nominee_id",
            "votes",
            "overall_rank",
            "category_rank",
            "category_id",
            "overall_position",
        )
    }
    categories = dict(Nominee.objects.filter(award_id=award_id).values_list("id", "category_id"))
    mismatches = []
    for nominee_id in sorted(set(nominees) | set(rows) | set(counts)):
        have = rows.get(nominee_id, {}).get("votes")
        want = counts.get(nominee_id, 0)
        if have != want:
            mismatches.append({"nominee": nominee_id, "standing": have, "raw_count": want})
    # Ranks: 1 + the number of active nominees with more votes (overall and in the category).
    active = [n for n, is_active in nominees.items() if is_active]
    wrong_ranks = 0
    by_votes = sorted(counts.get(n, 0) for n in active)
    for nominee_id in active:
        row = rows.get(nominee_id)
        if row is None:
            continue
        votes = counts.get(nominee_id, 0)
        overall = 1 + len(by_votes) - bisect.bisect_right(by_votes, votes)
        in_category = 1 + sum(
            1
            for other in active
            if categories[other] == categories[nominee_id] and counts.get(other, 0) > votes
        )
        if row["overall_rank"] != overall or row["category_rank"] != in_category:
            wrong_ranks += 1
    positions = sorted(r["overall_position"] for r in rows.values() if r["overall_position"])
    positions_ok = positions == list(range(1, len(active) + 1))
    snapshot = StandingsSnapshot.objects.get(award_id=award_id)
    total = sum(counts.values())
    pending = TallyDelta.objects.filter(award_id=award_id).count()
    ok = (
        not mismatches
        and wrong_ranks == 0
        and positions_ok
        and snapshot.total_votes == total
        and pending == 0
    )
    return {
        "ok": ok,
        "nominees_checked": len(nominees),
        "counted_votes": total,
        "snapshot_total_votes": snapshot.total_votes,
        "mismatched_nominees": len(mismatches),
        "mismatch_examples": mismatches[:5],
        "wrong_ranks": wrong_ranks,
        "positions_ok": positions_ok,
        "pending_deltas": pending,
        "raw_count_seconds": round(count_seconds, 3),
    }


# --- scenarios --------------------------------------------------------------------------------


def summarize(samples: list[tuple[float, dict, object]], extra: dict | None = None) -> dict:
    times = [seconds for seconds, _p, _r in samples]
    median_index = sorted(range(len(times)), key=lambda i: times[i])[(len(times) - 1) // 2]
    profile = samples[median_index][1]
    result = samples[median_index][2]
    top = profile["by_statement"][:4]
    return {
        "runs": len(times),
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "all_s": [round(x, 4) for x in times],
        "profile_of_median_run": {
            "sql_seconds": round(profile["sql_seconds"], 4),
            "python_seconds": round(profile["python_seconds"], 4),
            "statements": profile["statements"],
            "top_statements": [{**entry, "seconds": round(entry["seconds"], 4)} for entry in top],
        },
        "folded_deltas": getattr(result, "folded_deltas", None),
        "changed_rows": getattr(result, "changed_rows", None),
        **(extra or {}),
    }


def run_size(n: int, catchup_repeats: int, award, args, quiet: Quiet, t: dict) -> dict:
    from voting.standings.services import standings_rebuild, standings_recompute

    award_id = award.pk
    recompute = standings_recompute
    out: dict = {"votes_generated": n, "scenarios": {}, "exactness": {}}
    log(f"--- {n:,} votes ---")
    quiet.wait(f"generating {n:,} votes")
    sql(f"TRUNCATE {t['vote']}, {t['delta']}")
    restore_zero_standings(t)
    generator = Generator(award, args, t)
    start = time.perf_counter()
    out["generation"] = generator.bulk(n)
    out["generation"]["total_seconds"] = round(time.perf_counter() - start, 1)
    counts = dict(sql(f"SELECT status, count(*) FROM {t['vote']} GROUP BY status"))
    out["votes_by_status"] = counts
    out["pending_deltas_at_catchup"] = one(f"SELECT count(*) FROM {t['delta']}")
    out["vote_table_size"] = one(f"SELECT pg_size_pretty(pg_total_relation_size('{t['vote']}'))")
    log(
        f"generated {n:,} votes ({counts}) and {out['pending_deltas_at_catchup']:,} deltas in "
        f"{out['generation']['total_seconds']}s (vote table with indexes: "
        f"{out['vote_table_size']}); VACUUM ANALYZE done"
    )

    # 1. catch-up: every vote pending, the first recompute after seeding.
    samples = []
    for attempt in range(catchup_repeats):
        if attempt:
            restore_zero_standings(t)
            sql(f"TRUNCATE {t['delta']}")
            generator.deltas(after=0)
            vacuum_analyze(t["delta"])
        quiet.wait("catch-up recompute")
        samples.append(timed(recompute, award_id=award_id))
        log(f"catch-up {attempt + 1}/{catchup_repeats}: {samples[-1][0]:.3f}s")
    out["scenarios"]["catch_up"] = summarize(
        samples, {"pending_deltas": out["pending_deltas_at_catchup"]}
    )
    out["exactness"]["after_catch_up"] = exactness(award_id)
    log(f"exact after catch-up: {out['exactness']['after_catch_up']['ok']}")

    # 2a. steady state before any vacuum: the catch-up's deleted rows still in TallyDelta.
    first_batch = args.batches[0]
    samples = []
    for _ in range(args.repeats):
        generator.batch(first_batch)
        quiet.wait("steady-state recompute")
        samples.append(timed(recompute, award_id=award_id))
    dead = one(f"SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '{t['delta']}'")
    out["scenarios"][f"steady_{first_batch}_unvacuumed"] = summarize(
        samples, {"dead_delta_rows_after": dead}
    )
    log(
        f"steady {first_batch:,} new votes, no vacuum since the catch-up: median "
        f"{statistics.median(s[0] for s in samples):.3f}s ({dead:,} dead TallyDelta rows)"
    )
    log(f"VACUUM ANALYZE {t['delta']} (autovacuum is off on this server; it would have run)")
    vacuum_analyze(t["delta"])

    # 2b. steady state: each batch of new votes since the last recompute.
    for size in args.batches:
        samples = []
        for _ in range(args.repeats):
            generator.batch(size)
            quiet.wait("steady-state recompute")
            samples.append(timed(recompute, award_id=award_id))
        out["scenarios"][f"steady_{size}"] = summarize(samples)
        log(
            f"steady {size:,} new votes: median {statistics.median(s[0] for s in samples):.3f}s "
            f"(runs {', '.join(f'{s[0]:.3f}' for s in samples)})"
        )

    # 3. idle: nothing new.
    samples = []
    for _ in range(args.repeats):
        quiet.wait("idle recompute")
        samples.append(timed(recompute, award_id=award_id))
    out["scenarios"]["idle"] = summarize(samples)
    log(f"idle: median {statistics.median(s[0] for s in samples):.3f}s")

    out["votes_in_table"] = one(f"SELECT count(*) FROM {t['vote']}")
    out["exactness"]["after_steady_state"] = exactness(award_id)
    log(f"exact after steady state and idle: {out['exactness']['after_steady_state']['ok']}")

    # 4. full rebuild, for comparison.
    samples = []
    for _ in range(args.rebuild_repeats):
        quiet.wait("full rebuild")
        samples.append(timed(standings_rebuild, award_id=award_id))
    out["scenarios"]["full_rebuild"] = summarize(samples)
    log(f"full rebuild: median {statistics.median(s[0] for s in samples):.3f}s")
    out["exactness"]["after_rebuild"] = exactness(award_id)
    log(f"exact after rebuild: {out['exactness']['after_rebuild']['ok']}")
    return out


def save_zero_standings(t: dict) -> None:
    sql("DROP TABLE IF EXISTS bench_zero_standing")
    sql(f"CREATE TABLE bench_zero_standing AS SELECT * FROM {t['standing']}")


def restore_zero_standings(t: dict) -> None:
    """Standings and snapshot as they were after seeding: every nominee at zero votes."""
    columns = [
        "votes",
        "category_rank",
        "overall_rank",
        "category_position",
        "overall_position",
        "category_id",
    ]
    sets = ", ".join(f"{c} = z.{c}" for c in columns)
    sql(
        f"UPDATE {t['standing']} s SET {sets} FROM bench_zero_standing z "
        "WHERE s.nominee_id = z.nominee_id"
    )
    sql(f"UPDATE {t['snapshot']} SET total_votes = 0")


# --- report -----------------------------------------------------------------------------------

ROWS = [
    ("catch_up", "catch-up: all votes pending (first recompute)"),
    ("steady_{0}_unvacuumed", "steady: {0:,} new votes, TallyDelta not vacuumed"),
    ("steady_{0}", "steady: {0:,} new votes since last recompute"),
    ("steady_{1}", "steady: {1:,} new votes since last recompute"),
    ("idle", "idle: nothing new"),
    ("full_rebuild", "full rebuild (standings_rebuild)"),
]


def print_table(results: dict, batches: list[int]) -> None:
    sizes = list(results)
    print()
    print("standings_recompute on PostgreSQL, 1,000 nominees; seconds, median (min-max) of runs:")
    header = f"  {'scenario':<52}" + "".join(f"{f'{int(n):,} votes':>26}" for n in sizes)
    print(header)
    for key, label in ROWS:
        try:
            key, label = key.format(*batches), label.format(*batches)
        except IndexError:
            continue
        cells = []
        for n in sizes:
            scenario = results[n]["scenarios"].get(key)
            if scenario is None:
                cells.append(f"{'-':>26}")
                continue
            cell = (
                f"{scenario['median_s']:.3f} ({scenario['min_s']:.3f}-{scenario['max_s']:.3f})"
                if scenario["runs"] > 1
                else f"{scenario['median_s']:.3f}"
            )
            cells.append(f"{cell + ' x' + str(scenario['runs']):>26}")
        print(f"  {label:<52}" + "".join(cells))
    print()
    print(
        "Where the time goes (median run): deltas folded, Standing rows written, seconds in SQL "
        "and in Python, and the slowest statement"
    )
    for n in sizes:
        for key, scenario in results[n]["scenarios"].items():
            profile = scenario["profile_of_median_run"]
            top = profile["top_statements"][0] if profile["top_statements"] else None
            top_text = f"{top['seconds']:.3f}s x{top['count']} {top['sql'][:48]}" if top else ""
            folded = scenario["folded_deltas"] or 0
            changed = scenario["changed_rows"] or 0
            print(
                f"  {int(n):>10,} {key:<24} folded {folded:>10,} rows {changed:>5}  "
                f"sql {profile['sql_seconds']:6.3f}  py {profile['python_seconds']:6.3f}  "
                f"{top_text}"
            )


def git_state() -> dict:
    def run(*command: str) -> str:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    standings = ROOT / "voting" / "standings.py"
    return {
        "commit": run("git", "rev-parse", "HEAD"),
        "uncommitted_changes": run(
            "git", "status", "--porcelain", "--", "voting", "awards"
        ).splitlines(),
        "voting_standings_py_sha256": hashlib.sha256(standings.read_bytes()).hexdigest(),
    }


def server_facts() -> dict:
    import django
    import psycopg

    names = [
        "server_version",
        "shared_buffers",
        "work_mem",
        "maintenance_work_mem",
        "effective_cache_size",
        "max_parallel_workers_per_gather",
        "synchronous_commit",
        "autovacuum",
        "jit",
    ]
    settings = {name: one(f"SHOW {name}") for name in names}
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    return {
        "cpu_cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "postgresql": settings.pop("server_version"),
        "postgresql_settings": settings,
    }


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    quiet = Quiet(args.wait_limit)
    database_url = f"{args.postgres.rstrip('/')}/{args.database}"
    cleared = settings_env_names()
    env = {k: v for k, v in os.environ.items() if k not in cleared}
    env.update(
        {
            "LAUREL_MODE": "real",
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url,
            "SECRET_KEY": secrets.token_hex(32),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    try:
        import psycopg

        try:
            psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", connect_timeout=3).close()
        except psycopg.OperationalError as error:
            raise BenchError(f"PostgreSQL at {args.postgres} does not answer: {error}", 2) from None

        quiet.wait("setting up")
        log(f"recreating database {args.database}, migrating, seeding the demo award")
        recreate_database(args)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "seed_demo")
        django_setup(env)

        import voting.ballot.services
        from awards.models import Award
        from voting.standings.services import standings_recompute

        # votes_set_status (used to void votes between recomputes) asks Celery for a recompute
        # on commit; no worker should run one behind the benchmark's back, so the nudge is off.
        voting.ballot.services.standings_nudge = lambda award_id: None

        award = Award.objects.get(slug=AWARD_SLUG)
        added = complete_nominees(award)
        t = tables()
        standings_recompute(award_id=award.pk)  # a Standing row for each of the 1,000 at zero
        save_zero_standings(t)
        popularity = popularity_table(award, args.zipf, args.seed, t)
        facts = server_facts()
        log(
            f"{TARGET_NOMINEES} nominees ({added} added to seed_demo's); popularity: top nominee "
            f"{popularity['top_nominee_share']:.1%} of votes, top 10 "
            f"{popularity['top_10_share']:.1%}; PostgreSQL {facts['postgresql']}, "
            f"autovacuum {facts['postgresql_settings']['autovacuum']}"
        )

        results: dict[int, dict] = {}
        for index, n in enumerate(args.sizes):
            repeats = args.catchup_repeats[min(index, len(args.catchup_repeats) - 1)]
            results[n] = run_size(n, repeats, award, args, quiet, t)
            log(f"elapsed so far: {time.monotonic() - began:.0f}s")

        print_table(results, args.batches)

        exact = all(
            check["ok"] for result in results.values() for check in result["exactness"].values()
        )
        target_size = args.target_size if args.target_size in results else None
        verdicts = {}
        if target_size is not None:
            scenarios = results[target_size]["scenarios"]
            for key, scenario in scenarios.items():
                if key == "full_rebuild":
                    continue
                verdicts[key] = scenario["median_s"] <= args.target
        steady_key = f"steady_{args.batches[0]}"
        steady_pass = verdicts.get(steady_key)
        catch_pass = verdicts.get("catch_up")
        print()
        for n, result in results.items():
            for when, check in result["exactness"].items():
                print(
                    f"  exactness {int(n):>10,} votes, {when:<20}: "
                    f"{'OK' if check['ok'] else 'FAIL'} ({check['nominees_checked']} nominees, "
                    f"{check['counted_votes']:,} counted votes, "
                    f"{check['mismatched_nominees']} mismatches, {check['wrong_ranks']} wrong "
                    f"ranks, {check['pending_deltas']} pending)"
                )
        if target_size is not None:
            print()
            print(
                f"  steady-state recompute ({args.batches[0]:,} new votes) <= {args.target:g} s at "
                f"{target_size:,} votes: {'PASS' if steady_pass else 'FAIL'} "
                f"({results[target_size]['scenarios'][steady_key]['median_s']:.3f}s)"
            )
            print(
                f"  catch-up of {target_size:,} pending votes <= {args.target:g} s: "
                f"{'PASS' if catch_pass else 'FAIL'} "
                f"({results[target_size]['scenarios']['catch_up']['median_s']:.3f}s)"
            )
        elapsed = time.monotonic() - began
        print(f"  standings exact in every check: {'OK' if exact else 'FAIL'}")
        print(f"  whole run: {elapsed / 60:.1f} min (of which {quiet.waited:.0f}s waiting for wrk)")

        output = {
            "benchmark": "standings recompute: catch-up, steady state, idle, full rebuild",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": shlex.join(
                [os.path.relpath(sys.executable, ROOT), "bench/standings_bench.py", *sys.argv[1:]]
            ),
            "machine": facts,
            "code": git_state(),
            "setup": {
                "database": f"PostgreSQL, database {args.database} (recreated)",
                "settings": "bench.settings (laurel.settings, LAUREL_MODE=real)",
                "nominees": TARGET_NOMINEES,
                "nominees_added_to_seed_demo": added,
                "popularity": popularity,
                "status_mix": {"counted": 0.97, "void": 0.02, "quarantined": 0.01},
                "deltas": "+1 per vote cast, -1 per vote voided or quarantined (as the app does)",
                "bulk_load": "INSERT ... SELECT over generate_series; secondary indexes dropped "
                "and rebuilt, foreign-key triggers off during the load; then VACUUM ANALYZE",
                "steady_batches": args.batches,
                "voided_per_batch": VOIDED_PER_BATCH,
                "repeats": args.repeats,
                "catchup_repeats": args.catchup_repeats,
                "rebuild_repeats": args.rebuild_repeats,
                "seed": args.seed,
            },
            "results": {str(n): result for n, result in results.items()},
            "target_seconds": args.target,
            "target_size": target_size,
            "verdicts_at_target_size": verdicts,
            "steady_state_pass": steady_pass,
            "catch_up_pass": catch_pass,
            "exact": exact,
            "run_seconds": round(elapsed, 1),
            "waited_for_other_benchmark_seconds": round(quiet.waited, 1),
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(output, indent=2, default=str) + "\n")
        print(f"\nResults written to {os.path.relpath(args.output, Path.cwd())}")
        if not exact:
            print("\nFAIL: standings differ from the raw counts", file=sys.stderr)
            return 1
        return 0 if steady_pass in (True, None) else 1
    except BenchError as error:
        print(f"\n[standings_bench] ERROR: {error}", file=sys.stderr)
        return error.code


if __name__ == "__main__":
    sys.exit(main())
