"""Importing 984 nominees (with a photo each) from a CSV: preview, import and re-import.

    .venv/bin/python bench/import_bench.py [--repeats 3]          # embedded mode (SQLite)
    LAUREL_MODE=real DATABASE_URL=... REDIS_URL=... SECRET_KEY=... .venv/bin/python bench/import_bench.py

In a throwaway test database, each step the median of --repeats runs on a fresh award.
Target: each under 10 seconds. Writes bench/results/import_bench_<database>.json.
"""

import io
import os
import statistics
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.stack import arguments, save_results  # noqa: E402

TARGET_SECONDS = 10.0
ROWS = 984


def sample_files() -> tuple[bytes, bytes]:
    from PIL import Image

    from voting.management.commands.seed_demo import CATEGORIES

    lines = ["name,category,headline,bio,links,handle,photo"]
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as archive:
        for n in range(ROWS):
            slug = CATEGORIES[n % len(CATEGORIES)][1]
            lines.append(
                f'Nominee {n},{slug},Expert number {n},"Writes, speaks and advises.",'
                f'"https://n{n}.example https://www.linkedin.com/in/n{n}",@nominee{n},n{n}.jpg'
            )
            image = io.BytesIO()
            Image.new("RGB", (96, 96), (n % 256, 80, 160)).save(image, "JPEG")
            archive.writestr(f"photos/n{n}.jpg", image.getvalue())
    return "\n".join(lines).encode(), photos.getvalue()


def fresh_award(number: int):
    from awards.models import Award, Category
    from voting.management.commands.seed_demo import CATEGORIES

    now = datetime.now(UTC)
    award = Award.objects.create(
        name=f"Bench {number}", slug=f"bench-{number}", voting_opens=now,
        voting_closes=now + timedelta(days=30),
    )  # fmt: skip
    for order, (name, slug, *_rest) in enumerate(CATEGORIES):
        Category.objects.create(award=award, name=name, slug=slug, display_order=order)
    return award


def timed(award, csv_data: bytes, photos: bytes, *, dry_run: bool) -> tuple[float, dict]:
    from awards.imports import PhotoArchive, dataset_read, import_problems, nominees_import

    started = time.perf_counter()
    dataset = dataset_read(data=csv_data, file_name="nominees.csv")
    result = nominees_import(
        award=award, dataset=dataset, photos=PhotoArchive(photos), dry_run=dry_run
    )
    seconds = time.perf_counter() - started
    if problems := import_problems(result):
        raise SystemExit(f"the sample file was refused: {problems[:3]}")
    return seconds, {kind: count for kind, count in result.totals.items() if count}


def main() -> int:
    args = arguments(__doc__, repeats=(3, "runs of each step, each on a fresh award"))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings

    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    steps = {"preview": [], "import": [], "re-import": []}
    totals = {}
    try:
        csv_data, photos = sample_files()
        media = Path(settings.VAR_DIR) / "bench-media"
        with override_settings(MEDIA_ROOT=str(media)):
            for repeat in range(args.repeats):
                award = fresh_award(repeat)
                for step, dry_run in (("preview", True), ("import", False), ("re-import", False)):
                    seconds, totals[step] = timed(award, csv_data, photos, dry_run=dry_run)
                    steps[step].append(round(seconds, 3))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    medians = {step: statistics.median(runs) for step, runs in steps.items()}
    ok = all(seconds < TARGET_SECONDS for seconds in medians.values())
    print(f"{ROWS} rows, {connection.vendor}, median of {args.repeats}:")
    for step, seconds in medians.items():
        print(f"  {step:<10} {seconds:6.2f} s   runs {steps[step]}   rows {totals[step]}")
    print(f"{'PASS' if ok else 'FAIL'}: each step under {TARGET_SECONDS:.0f} s")
    found = {"median_seconds": medians, "runs": steps, "rows": totals, "pass": ok}
    save_results(found, stem=f"import_bench_{connection.vendor}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
