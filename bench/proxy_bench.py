"""What the shipped nginx keeps, against nginx serving a file of the same size, in one run.

    .venv/bin/python bench/proxy_bench.py [--duration 10] [--rounds 3]

deploy/nginx as shipped (deploy/local_nginx.py, one worker per core) in front of gunicorn as
deployed on a unix socket, real mode, the 2012 demo with 20,000 votes and the beat's recompute
running. Targets: the award home, the overall standings, the standings JSON and a nominee's
badge, each through the proxy cache, reach at least 50% of the requests/s nginx reaches serving
a file of the award home's size from disk. The nominee page, which the proxy never keeps, keeps
its share of the bare Django view that page_bench.py last recorded (direct to gunicorn), within
five points. wrk sends no cookies, each request from an address of its own (X-Forwarded-For,
which nginx extends and Laurel reads through the socket).
"""

import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.page_bench import AWARD, BARE, CROWD_LUA, beat, seed_votes
from bench.stack import ROOT, Stack, arguments, medians, problems_of, save_results
from deploy.local_nginx import LocalNginx

TARGET = 0.50
STATIC = "nginx: a file of the same size"
# How far below page_bench.py's share of the bare view the nominee page may fall behind nginx.
SHARE_SLACK = 0.05


def recorded_nominee_share() -> float | None:
    path = ROOT / "bench" / "results" / "page_bench.json"
    try:
        return json.loads(path.read_text())["share_of_bare"]["nominee page"]
    except (OSError, KeyError, ValueError):
        return None


def main() -> int:
    args = arguments(
        __doc__,
        duration=(10, "seconds per run"),
        rounds=(3, "rounds over every page"),
        warmup=(2, "warm-up seconds per page"),
        connections=(64, "wrk connections"),
    )
    with Stack() as stack, tempfile.TemporaryDirectory(prefix="laurel-nginx-") as folder:
        from django import db

        from awards.models import Award

        award_id = Award.objects.get(slug=AWARD).pk
        leader = seed_votes(award_id)
        db.connections.close_all()
        folder = Path(folder)
        nginx = LocalNginx(folder, upstream=f"unix:{folder}/gunicorn.sock", workers=os.cpu_count())
        with nginx:
            stack.url = nginx.url
            stack.roots["nginx"] = nginx.pid
            stack.start(workers=3, threads=4, bind=f"unix:{folder}/gunicorn.sock")
            with urllib.request.urlopen(f"{nginx.url}/{AWARD}/", timeout=10) as response:
                size = len(response.read())
            # A file of the award home's size, which nginx serves from disk itself.
            (nginx.media / "nominees").mkdir(exist_ok=True)
            (nginx.media / "nominees" / "same-size.jpg").write_bytes(secrets.token_bytes(size))
            cached = {
                "award home": f"/{AWARD}/",
                "overall standings": f"/{AWARD}/standings/",
                "standings JSON": f"/api/{AWARD}/standings/",
                "badge (SVG)": f"/{AWARD}/{leader}/badge.svg",
            }
            django = {BARE: "/bench/page/", "nominee page": f"/{AWARD}/{leader}/"}
            pages = {STATIC: "/media/nominees/same-size.jpg", **cached, **django}
            for path in pages.values():
                with urllib.request.urlopen(nginx.url + path, timeout=10) as response:
                    if response.status != 200:
                        sys.exit(f"{path} answers {response.status}")
            stop = threading.Event()
            threading.Thread(target=beat, args=(award_id, stop), daemon=True).start()
            runs: dict[str, list[dict]] = {name: [] for name in pages}
            # Each page right after its own reference, so that each share compares neighbours.
            pairs = {name: STATIC for name in cached} | {"nominee page": BARE}
            ratios: dict[str, list[float]] = {name: [] for name in pairs}
            for round_ in range(args.rounds + 1):  # round 0 is the warm-up
                seconds = args.duration if round_ else args.warmup
                for name, reference in pairs.items():
                    pair = []
                    for measured in (reference, name):
                        label = f"{f'round {round_}' if round_ else 'warm-up'} {measured}"
                        run = stack.wrk(pages[measured], CROWD_LUA, seconds=seconds,
                                        connections=args.connections, label=label)  # fmt: skip
                        if round_:
                            runs[measured].append(run)
                        pair.append(run["rps"])
                    if round_:
                        ratios[name].append(pair[1] / pair[0])
            stop.set()
        problems = [f"server log: {line}" for line in stack.errors()[:20]]
    problems += problems_of(runs)
    median = {name: medians(measured) for name, measured in runs.items()}
    share = {name: statistics.median(each) for name, each in ratios.items()}
    recorded = recorded_nominee_share()
    nominee_kept = recorded is None or share["nominee page"] >= recorded - SHARE_SLACK
    passed = all(share[name] >= TARGET for name in cached) and nominee_kept and not problems
    print(f"\nMedian of {args.rounds} rounds of {args.duration} s, wrk -c{args.connections}, "
          f"{size:,}-byte award home:")  # fmt: skip
    for name, figures in median.items():
        versus = f"{share[name]:6.1%} of {pairs[name][:5]}" if name in share else ""
        print(
            f"  {name:32} {figures['rps']:7.0f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
            f"p99 {figures['p99_ms']:6.1f} ms  {versus}"
        )
    if recorded is not None:
        print(f"  nominee page's share of the bare view in page_bench.py: {recorded:.1%}")
    print("\n".join(["", *problems]) if problems else "")
    print(
        f"each cached page >= {TARGET:.0%} of nginx's file, the nominee page's share kept, a "
        f"clean run: {'PASS' if passed else 'FAIL'}"
    )
    save_results(
        {
            "settings": vars(args) | {"nginx_workers": os.cpu_count(), "workers": 3, "threads": 4},
            "award_home_bytes": size,
            "median": median,
            "share": share,
            "shares_per_round": ratios,
            "nominee_share_in_page_bench": recorded,
            "runs": runs,
            "problems": problems,
            "target_met": passed,
        }
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
