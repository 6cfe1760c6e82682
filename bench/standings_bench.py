"""The standings recompute at 1,000,000 and 10,000,000 votes: catch-up, steady, idle, rebuild.

    .venv/bin/python bench/standings_bench.py [--sizes 1000000,10000000] [--repeats 5]

Target (the issue): a recompute for 1,000 nominees over 1,000,000 votes takes at most 1 s on
PostgreSQL, its cost follows the votes since the last recompute rather than all votes, and
after any load the standings equal a raw COUNT of counted votes per nominee. The votes are made
in SQL and bulk-loaded; each scenario's calls are timed with their SQL statements; no server or
Celery worker runs, so nothing recomputes behind the benchmark's back. bench/README.md has the
details.
"""

import itertools
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import Stack, arguments, save_results, sql, wait_until_quiet

AWARD = "sbia-2012"
NOMINEES, SLOTS, TARGET, TARGET_SIZE = 1_000, 1_000_000, 1.0, 1_000_000
# Votes first to last; a vote's nominee is a random slot of bench_slot (popularity()).
VOTES_SQL = """
INSERT INTO voting_vote (award_id, nominee_id, category_id, created_at, voter_key, ip, network,
                         user_agent, ref, status, reasons, verified, new_voter)
SELECT %(award)s, s.nominee_id, s.category_id,
    %(start)s::timestamptz + (v.g::float8 / %(n)s) * interval '30 days' + v.r * interval '90 s',
    md5('voter:' || floor(v.r_voter * v.r_voter * %(voters)s)::bigint), v.ip, v.ip,
    (ARRAY['iPhone Safari', 'Android Chrome', 'Windows Chrome', 'Mac Safari'])[1 + floor(v.r * 4)],
    CASE WHEN v.r_ref < 0.70 THEN '' WHEN v.r_ref < 0.85 THEN 'twitter'
         WHEN v.r_ref < 0.95 THEN 'facebook' ELSE 'linkedin' END,
    CASE WHEN v.r_status < 0.97 THEN 'counted' WHEN v.r_status < 0.99 THEN 'void'
         ELSE 'quarantined' END, '', true, v.r_voter < 0.25
FROM (
    SELECT g, floor(random() * %(slots)s)::int AS slot, random() AS r_voter, random() AS r,
           random() AS r_ref, random() AS r_status,
           CASE WHEN g %% 5 = 0 THEN '2001:db8:' || to_hex(g %% 65536) || '::/64'
                ELSE (1 + g %% 223) || '.' || g / 7 %% 256 || '.' || g / 11 %% 256 || '.' || 1 + g %% 254
           END AS ip
    FROM generate_series(%(first)s, %(last)s) AS g OFFSET 0
) AS v JOIN bench_slot AS s ON s.slot = v.slot
"""
# What the application leaves in TallyDelta: +1 when a vote is cast (vote_cast), -1 when it is
# later voided or quarantined (votes_set_status), in that order.
DELTAS_SQL = [
    "INSERT INTO voting_tallydelta (award_id, nominee_id, amount) SELECT award_id, nominee_id, 1 "
    "FROM voting_vote WHERE id > %(after)s ORDER BY id",
    "INSERT INTO voting_tallydelta (award_id, nominee_id, amount) SELECT award_id, nominee_id, -1 "
    "FROM voting_vote WHERE id > %(after)s AND status <> 'counted' ORDER BY id",
]
INDEXES_SQL = """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) ORDER BY 1"""
EXACT_SQL = """
WITH c AS (SELECT n.id, n.category_id, n.is_active, count(v.id) AS votes FROM awards_nominee n
           LEFT JOIN voting_vote v ON v.nominee_id = n.id AND v.status = 'counted'
           WHERE n.award_id = %(award)s GROUP BY n.id),
     r AS (SELECT id, rank() OVER (ORDER BY votes DESC) AS overall,
                  rank() OVER (PARTITION BY category_id ORDER BY votes DESC) AS in_category
           FROM c WHERE is_active),
     s AS (SELECT * FROM voting_standing WHERE award_id = %(award)s)
SELECT (SELECT sum(votes)::bigint FROM c),
       (SELECT count(*) FROM c LEFT JOIN s ON s.nominee_id = c.id
        WHERE s.votes IS DISTINCT FROM c.votes),
       (SELECT count(*) FROM r LEFT JOIN s ON s.nominee_id = r.id
        WHERE (s.overall_rank, s.category_rank) IS DISTINCT FROM (r.overall, r.in_category)),
       (SELECT array_agg(overall_position ORDER BY overall_position) FROM s WHERE overall_position > 0)
        = (SELECT array_agg(g) FROM generate_series(1, (SELECT count(*) FROM r)::int) AS g),
       (SELECT total_votes FROM voting_standingssnapshot WHERE award_id = %(award)s),
       (SELECT count(*) FROM voting_tallydelta WHERE award_id = %(award)s)
"""
RANKED = "votes, category_rank, overall_rank, category_position, overall_position"


def popularity(award_id: int, zipf: float, seed: int) -> dict:
    """bench_slot: SLOTS rows, each active nominee owning a run of them in proportion to
    1/rank**zipf, the ranks shuffled over the nominees."""
    nominees = sql(
        "SELECT id, category_id FROM awards_nominee WHERE award_id = %s AND is_active ORDER BY id",
        [award_id],
    )
    random.Random(seed).shuffle(nominees)
    weights = list(itertools.accumulate(1 / rank**zipf for rank in range(1, len(nominees) + 1)))
    ends = [round(weight / weights[-1] * SLOTS) for weight in weights]
    starts = [0, *ends[:-1]]
    shares = [(end - start) / SLOTS for start, end in zip(starts, ends, strict=True)]
    assert min(shares) > 0, "the popularity table is too coarse: a nominee got no slot"
    sql("DROP TABLE IF EXISTS bench_slot")
    sql("CREATE TABLE bench_slot (slot int PRIMARY KEY, nominee_id bigint, category_id bigint)")
    sql(
        "INSERT INTO bench_slot SELECT generate_series(r.s, r.e - 1), r.n, r.c FROM "
        "unnest(%s::bigint[], %s::bigint[], %s::int[], %s::int[]) AS r(n, c, s, e)",
        [[n for n, _ in nominees], [c for _, c in nominees], starts, ends],
    )
    sql("ANALYZE bench_slot")
    return {"top": shares[0], "top_10": sum(shares[:10]), "least": shares[-1]}


def bulk_load(table: str, statements: list[str], params: dict) -> None:
    """INSERTs into `table` as a bulk load: its secondary indexes dropped and rebuilt after, and
    foreign-key triggers off (every row references an existing nominee by construction)."""
    from django.db import transaction

    indexes = sql(INDEXES_SQL, [table])
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")
        sql("SET LOCAL maintenance_work_mem = '1GB'")
        for name, _ in indexes:
            sql(f'DROP INDEX "{name}"')
        for statement in statements:
            sql(statement, params)
        for _, definition in indexes:
            sql(definition)
    assert sql(INDEXES_SQL, [table]) == indexes, f"the indexes of {table} did not come back"


def vacuum(*tables: str) -> None:
    for table in tables:
        sql(f"VACUUM ANALYZE {table}")


def add_votes(award, first: int, last: int, seed: int, *, bulk: bool = False) -> None:
    """Votes number first..last (spread over 30 days as if `last` were all) and their tally
    changes: into empty tables as a bulk load, or as ordinary inserts with every index live."""
    from django.db import transaction

    sql("SELECT setseed(%s)", [(hash((seed, first)) % 2_000_001) / 1_000_000 - 1])
    after = sql("SELECT coalesce(max(id), 0) FROM voting_vote")[0][0]
    params = {"award": award.pk, "start": award.voting_opens, "n": last, "slots": SLOTS}
    params |= {"voters": max(1000, last // 4), "first": first, "last": last}
    if bulk:
        bulk_load("voting_vote", [VOTES_SQL], params)
        bulk_load("voting_tallydelta", DELTAS_SQL, {"after": after})
        return vacuum("voting_vote", "voting_tallydelta")
    with transaction.atomic():
        sql(VOTES_SQL, params)
        for statement in DELTAS_SQL:
            sql(statement, {"after": after})


def void_some(newest: int) -> None:
    """10 counted votes up to id `newest` voided through the application's votes_set_status."""
    from voting.integrity.holds import votes_set_status

    low = random.Random(newest).randint(1, max(1, newest - 1000))
    older = "SELECT id FROM voting_vote WHERE id BETWEEN %s AND %s AND status = 'counted'"
    older = [row[0] for row in sql(older + " ORDER BY id LIMIT 10", [low, newest])]
    votes_set_status(vote_ids=older, status="void")


def timed(call, award_id: int) -> dict:
    """Wall time of one call, commit included, split into SQL and Python, with its slowest
    statement, and what it folded and wrote."""
    from django.db import connection

    statements = []

    def log(execute, statement, params, many, context):
        began = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            text = " ".join(statement.replace('"', "").split())[:90]
            statements.append((time.perf_counter() - began, text))

    with connection.execute_wrapper(log):
        began = time.perf_counter()
        result = call(award_id=award_id)
        seconds = time.perf_counter() - began
    in_sql = sum(s for s, _ in statements)
    return {
        "seconds": seconds,
        "sql_s": round(in_sql, 4),
        "python_s": round(max(0.0, seconds - in_sql), 4),
        "statements": len(statements),
        "slowest": max(statements),
        "folded": result.folded_deltas,
        "written": result.changed_rows,
    }


def scenario(calls: list[dict]) -> dict:
    times = [call["seconds"] for call in calls]
    median = sorted(calls, key=lambda call: call["seconds"])[(len(calls) - 1) // 2]
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "all_s": [round(t, 4) for t in times],
        "median_run": median,
    }


def exactness(award_id: int) -> dict:
    """Every nominee's Standing.votes against a COUNT of its counted votes, ranks (1 + the
    active nominees with more votes, overall and in the category), overall positions 1..n,
    the snapshot's total, and nothing pending."""
    names = "counted_votes mismatched_nominees wrong_ranks positions_ok snapshot_total pending"
    found = dict(zip(names.split(), sql(EXACT_SQL, {"award": award_id})[0], strict=True))
    ok = not found["mismatched_nominees"] and not found["wrong_ranks"] and not found["pending"]
    return {
        "ok": ok and found["positions_ok"] and found["snapshot_total"] == found["counted_votes"]
    } | found


def run_size(award, n: int, args) -> dict:
    from voting.standings.services import standings_rebuild, standings_recompute

    def calls(times: int, before=lambda: None, call=standings_recompute) -> list[dict]:
        """`times` timed calls, each after before()."""
        return [before() or timed(call, award.pk) for _ in range(times)]

    def zero_standings() -> None:
        sql(f"UPDATE voting_standing s SET ({RANKED}) = (SELECT {RANKED} FROM bench_zero z "
            "WHERE z.nominee_id = s.nominee_id)")  # fmt: skip
        sql("UPDATE voting_standingssnapshot SET total_votes = 0")

    def pending_again() -> None:
        zero_standings()
        sql("TRUNCATE voting_tallydelta")
        bulk_load("voting_tallydelta", DELTAS_SQL, {"after": 0})
        vacuum("voting_tallydelta")

    def batch(size: int) -> None:
        """`size` new votes since the last recompute, and 10 older ones voided."""
        newest = sql("SELECT max(id) FROM voting_vote")[0][0]
        total[0] += size
        add_votes(award, total[0] - size + 1, total[0], args.seed)
        void_some(newest)

    print(f"--- {n:,} votes", flush=True)
    wait_until_quiet()
    sql("TRUNCATE voting_vote, voting_tallydelta")
    zero_standings()
    total, began = [n], time.monotonic()
    add_votes(award, 1, n, args.seed, bulk=True)
    out: dict = {"load_s": round(time.monotonic() - began, 1), "scenarios": {}}
    out["pending"] = sql("SELECT count(*) FROM voting_tallydelta")[0][0]
    out["by_status"] = dict(sql("SELECT status, count(*) FROM voting_vote GROUP BY status"))
    print(f"generated in {out['load_s']} s: {out['by_status']}", flush=True)
    found, exact = out["scenarios"], out.setdefault("exact", {})
    found["catch_up"] = scenario(calls(1) + calls(args.catchup_repeats - 1, pending_again))
    exact["after catch-up"] = exactness(award.pk)
    first, *_ = args.batches
    # The catch-up's drained rows are still dead in voting_tallydelta until a vacuum.
    found[f"steady_{first}_unvacuumed"] = scenario(calls(args.repeats, lambda: batch(first)))
    vacuum("voting_tallydelta")
    for size in args.batches:
        found[f"steady_{size}"] = scenario(calls(args.repeats, lambda s=size: batch(s)))
    found["idle"] = scenario(calls(args.repeats))
    exact["after steady and idle"] = exactness(award.pk)
    found["full_rebuild"] = scenario(calls(args.rebuild_repeats, call=standings_rebuild))
    exact["after rebuild"] = exactness(award.pk)
    for key, figures in found.items():
        run = figures["median_run"]
        print(
            f"  {key:<24} median {figures['median_s']:.3f} s (sql {run['sql_s']:.3f}, python "
            f"{run['python_s']:.3f}; folded {run['folded']:,}, wrote {run['written']}; slowest "
            f"{run['slowest'][0]:.3f} s {run['slowest'][1][:40]})",
            flush=True,
        )
    return out


ROWS = {
    "catch_up": "catch-up: all votes pending",
    "steady_{0}_unvacuumed": "steady: {0:,} new votes, TallyDelta not vacuumed",
    "steady_{0}": "steady: {0:,} new votes since the last recompute",
    "steady_{1}": "steady: {1:,} new votes since the last recompute",
    "idle": "idle: nothing new",
    "full_rebuild": "full rebuild (standings_rebuild)",
}


def main() -> int:
    args = arguments(
        __doc__,
        sizes=("1000000,10000000", "votes, comma-separated"),
        batches=("1000,10000", "new votes before a steady recompute, comma-separated"),
        repeats=(5, "steady and idle recomputes"),
        catchup_repeats=(3, "catch-ups per size"),
        rebuild_repeats=(3, "full rebuilds per size"),
        zipf=(1.0, "Zipf exponent of popularity"),
        seed=(2012, "random seed"),
    )
    args.sizes, args.batches = ([int(x) for x in v.split(",")] for v in (args.sizes, args.batches))
    with Stack():
        from awards.models import Award, Nominee
        from voting.standings.services import standings_recompute

        award = Award.objects.get(slug=AWARD)
        categories = list(award.categories.order_by("display_order", "pk"))
        have = Nominee.objects.filter(award=award).count()
        Nominee.objects.bulk_create(
            Nominee(award=award, category=categories[i % len(categories)],
                    name=f"Bench Nominee {i}", slug=f"bench-nominee-{i}")
            for i in range(NOMINEES - have)
        )  # fmt: skip
        standings_recompute(award_id=award.pk)  # a Standing row for each of the 1,000, at zero
        sql("CREATE TABLE bench_zero AS SELECT * FROM voting_standing")
        shares = popularity(award.pk, args.zipf, args.seed)
        names = "shared_buffers work_mem maintenance_work_mem autovacuum jit".split()
        server = {name: sql(f"SHOW {name}")[0][0] for name in names}
        print(f"{NOMINEES} nominees, Zipf shares {shares}; PostgreSQL {server}", flush=True)
        results = {n: run_size(award, n, args) for n in args.sizes}
        exact = all(check["ok"] for r in results.values() for check in r["exact"].values())
        print(f"\nstandings_recompute, {NOMINEES:,} nominees; seconds, median (min-max):")
        print(f"  {'':<50}" + "".join(f"{f'{n:,} votes':>26}" for n in results))
        for key, label in ROWS.items():
            key, label = key.format(*args.batches, 0), label.format(*args.batches, 0)
            cells = [r["scenarios"].get(key) for r in results.values()]
            print(f"  {label:<50}" + "".join(
                f"{f'{c["median_s"]:.3f} ({c["min_s"]:.3f}-{c["max_s"]:.3f}) x{len(c["all_s"])}':>26}"
                if c else f"{'-':>26}" for c in cells
            ))  # fmt: skip
        for n, result in results.items():
            for when, check in result["exact"].items():
                print(f"  exact at {n:,} votes, {when}: {'OK' if check['ok'] else 'FAIL'} {check}")
        verdicts = {}
        if TARGET_SIZE in results:
            found = results[TARGET_SIZE]["scenarios"]
            for key in (f"steady_{args.batches[0]}", "catch_up"):
                verdicts[key] = found[key]["median_s"] <= TARGET
                print(
                    f"  {key} <= {TARGET:g} s at {TARGET_SIZE:,} votes: "
                    f"{'PASS' if verdicts[key] else 'FAIL'} ({found[key]['median_s']:.3f} s)"
                )
        else:
            print(f"  the target applies at {TARGET_SIZE:,} votes, not among --sizes")
        passed = exact and verdicts.get(f"steady_{args.batches[0]}", True)
        print("PASS" if passed else "FAIL")
        setup = {"nominees": NOMINEES, "zipf_shares": shares, "postgresql": server}
        save_results(
            {"config": vars(args), "setup": setup, "results": results}
            | {"verdicts": verdicts, "exact": exact, "passed": passed}
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
