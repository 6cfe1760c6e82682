"""The audit export of votes at 100,000 and 1,000,000 votes: time and memory (PostgreSQL).

    LAUREL_MODE=real DATABASE_URL=... REDIS_URL=... SECRET_KEY=... .venv/bin/python bench/export_bench.py

Creates a throwaway test database (Django's ``test_`` copy of the configured one), an award
with 984 nominees, and the votes with one ``INSERT ... SELECT generate_series``; then downloads
``/admin/exports/<award>/votes.csv`` through the view (a superuser's request) and reads the
streamed body to the end, counting lines. Reports seconds, rows per second and how much the
process's peak memory (``ru_maxrss``) grew: the target is that it does not grow with the votes
(under 50 MB more at 1,000,000 than at 100,000). Writes bench/results/export_bench.json.
"""

import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laurel.settings")

from bench.stack import save_results  # noqa: E402

SIZES = [100_000, 1_000_000]
GROWTH_LIMIT_MB = 50

VOTES_SQL = """
INSERT INTO voting_vote (award_id, nominee_id, category_id, created_at, voter_key, ip, network,
                         user_agent, ref, status, reasons, verified, new_voter)
SELECT %(award)s, n.id, n.category_id, %(start)s::timestamptz + g * interval '1 second',
       md5(g::text), '198.51.' || (g %% 250) || '.' || (g %% 200), '198.51.' || (g %% 250) || '.0/24',
       '', 'x', CASE WHEN g %% 50 = 0 THEN 'quarantined' ELSE 'counted' END,
       CASE WHEN g %% 50 = 0 THEN 'burst' ELSE '' END, true, g %% 3 = 0
FROM generate_series(1, %(count)s) AS g
JOIN (SELECT id, category_id, row_number() OVER (ORDER BY id) - 1 AS i
      FROM awards_nominee WHERE award_id = %(award)s) AS n ON n.i = g %% 984
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import RequestFactory

    from awards.models import Award, Category, Nominee
    from voting.organizers.exports import votes_csv

    if connection.vendor != "postgresql":
        print("needs PostgreSQL: run it in real mode (LAUREL_MODE=real, DATABASE_URL=...)")
        return 2
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    runs = []
    try:
        now = datetime.now(UTC)
        award = Award.objects.create(
            name="Bench", slug="bench", voting_opens=now, voting_closes=now + timedelta(days=30)
        )
        category = Category.objects.create(award=award, name="All", slug="all")
        Nominee.objects.bulk_create(
            Nominee(award=award, category=category, name=f"Nominee {n}", slug=f"n{n}")
            for n in range(984)
        )
        user = get_user_model().objects.create_superuser("bench", "b@example.com", "pw")
        loaded = 0
        for size in SIZES:
            with connection.cursor() as cursor:
                params = {"award": award.pk, "start": now, "count": size - loaded}
                cursor.execute(VOTES_SQL, params)
                cursor.execute("ANALYZE voting_vote")
            loaded = size
            request = RequestFactory().get(f"/admin/exports/{award.pk}/votes.csv")
            request.user = user
            before = peak_mb()
            started = time.perf_counter()
            response = votes_csv(request, award_id=award.pk)
            lines = sum(1 for _ in response.streaming_content)
            seconds = time.perf_counter() - started
            runs.append(
                {
                    "votes": size,
                    "lines": lines,
                    "seconds": round(seconds, 2),
                    "rows_per_second": round(lines / seconds),
                    "peak_mb_before": round(before, 1),
                    "peak_mb_after": round(peak_mb(), 1),
                }
            )
            print(
                f"{size:>9,} votes: {lines:,} lines in {seconds:.1f} s "
                f"({lines / seconds:,.0f}/s); peak memory {before:.0f} -> {peak_mb():.0f} MB"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    growth = runs[-1]["peak_mb_after"] - runs[0]["peak_mb_after"]
    ok = all(r["lines"] == r["votes"] + 1 for r in runs) and growth < GROWTH_LIMIT_MB
    print(f"{'PASS' if ok else 'FAIL'}: peak memory grew {growth:.1f} MB from 100,000 to 1,000,000")
    save_results(
        "export_bench",
        {
            "benchmark": "audit export of votes, streamed, 100,000 and 1,000,000 votes",
            "runs": runs,
            "peak_growth_mb": round(growth, 1),
            "pass": ok,
        },
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
