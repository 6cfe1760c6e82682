"""The audit export of votes at 100,000 and 1,000,000 votes: time and memory (PostgreSQL).

    .venv/bin/python bench/export_bench.py [--sizes 100000,1000000]

On the stack's database (the demo award, 984 nominees), the votes are made with one
INSERT ... SELECT generate_series; then /admin/exports/<award>/votes.csv is read through
Django's test client as a superuser, in this process, to the end of its streamed body. Reported:
seconds, rows per second and how much the process's peak memory (ru_maxrss) grew. Target: it
does not grow with the votes (under 50 MB more at the largest size than at the smallest).
"""

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import Stack, arguments, save_results, sql

AWARD = "sbia-2012"
GROWTH_LIMIT_MB = 50
VOTES_SQL = """
INSERT INTO voting_vote (award_id, nominee_id, category_id, created_at, voter_key, ip, network,
                         user_agent, ref, status, reasons, verified, new_voter)
SELECT %(award)s, n.id, n.category_id, now() - g * interval '1 second', md5(g::text),
       '198.51.' || (g %% 250) || '.' || (g %% 200), '198.51.' || (g %% 250) || '.0/24', '', 'x',
       CASE WHEN g %% 50 = 0 THEN 'quarantined' ELSE 'counted' END,
       CASE WHEN g %% 50 = 0 THEN 'burst' ELSE '' END, true, g %% 3 = 0
FROM generate_series(%(first)s, %(last)s) AS g
JOIN (SELECT id, category_id, row_number() OVER (ORDER BY id) - 1 AS i
      FROM awards_nominee WHERE award_id = %(award)s) AS n ON n.i = g %% 984
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    args = arguments(__doc__, sizes=("100000,1000000", "votes, comma-separated"))
    sizes = [int(size) for size in args.sizes.split(",")]
    with Stack():
        from django.contrib.auth import get_user_model
        from django.test import Client

        from awards.models import Award

        award = Award.objects.get(slug=AWARD)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(get_user_model().objects.create_superuser("bench", "b@example.com"))
        runs, loaded = [], 0
        for size in sizes:
            sql(VOTES_SQL, {"award": award.pk, "first": loaded + 1, "last": size})
            sql("ANALYZE voting_vote")
            loaded, before, began = size, peak_mb(), time.perf_counter()
            response = client.get(f"/admin/exports/{award.pk}/votes.csv")
            assert response.status_code == 200, response.status_code
            lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
            seconds = time.perf_counter() - began
            runs.append(
                {"votes": size, "lines": lines, "seconds": round(seconds, 2)}
                | {"rows_per_second": round(lines / seconds), "peak_mb_before": round(before, 1)}
                | {"peak_mb_after": round(peak_mb(), 1)}
            )
            print(
                f"{size:>9,} votes: {lines:,} lines in {seconds:.1f} s "
                f"({lines / seconds:,.0f}/s); peak memory {before:.0f} -> {peak_mb():.0f} MB"
            )
        growth = runs[-1]["peak_mb_after"] - runs[0]["peak_mb_after"]
        passed = all(r["lines"] == r["votes"] + 1 for r in runs) and growth < GROWTH_LIMIT_MB
        print(
            f"{'PASS' if passed else 'FAIL'}: every vote exported, peak memory grew {growth:.1f} MB"
        )
        save_results({"runs": runs, "peak_growth_mb": round(growth, 1), "pass": passed})
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
