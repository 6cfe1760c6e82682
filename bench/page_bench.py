"""Public pages against a bare view returning a cached 20 KB page, on one stack in one run.

    .venv/bin/python bench/page_bench.py [--duration 10] [--rounds 3] [--page "nominee page"]...

Target: the nominee page, the award home, the overall standings and their JSON each reach at
least 90% of the bare view's requests/s, and a web worker's RSS stays under 100 MB after a mixed
run over every other public URL. wrk sends no cookies, each request from an address of its own:
each nominee-page request is a first visit.
"""

import random
import statistics
import sys
import threading
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import Stack, arguments, save_results

AWARD = "sbia-2012"
VOTES = 20_000
TARGET = 0.90
RSS_LIMIT_MB = 100
BARE = "bare cached 20 KB page"
# As the TLS proxy in front of Laurel says (real mode redirects plain HTTP to HTTPS).
PROXY_HEADER = "X-Forwarded-Proto: https"
# Every request from an address of its own (through the trusted loopback proxy), as a crowd
# arriving from a shared link: each nominee-page request mints a cookie and a vote token, as a
# first visit does, rather than meeting the bound on new cookies from one address.
CROWD_LUA = """
math.randomseed(os.time())
request = function()
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  local first = math.random(11, 222)
  if first >= 127 then first = first + 1 end
  headers["X-Forwarded-For"] = first .. "." .. math.random(0, 255) .. "." ..
    math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format(nil, nil, headers)
end
"""
# The mixed run before the memory is read: what else the public asks a web worker for.
MIXED = """/{award}/{nominee}/share.png /{award}/{nominee}/badge.svg /{award}/{nominee}/badge.png
/{award}/{nominee}/qr.svg /{award}/{nominee}/qr.png /{award}/{nominee}/reminder.ics
/{award}/rules/ /{award}/privacy/ /{award}/categories/experts/ /{award}/?page=2 /{award}/?q=ann
/{award}/standings/experts/ /api/{award}/nominees/{nominee}/ / /healthz""".split()
MIXED_LUA = """
local paths, n = {%s}, 0
request = function() n = n + 1; return wrk.format("GET", paths[(n %% #paths) + 1]) end
"""


def seed_votes(award_id: int) -> str:
    """VOTES counted votes, Zipf over the award's nominees; returns the leader's slug."""
    from django.utils import timezone

    from awards.models import Nominee
    from voting.models import Vote
    from voting.standings.services import standings_rebuild

    nominees = list(Nominee.objects.filter(award_id=award_id).values_list("pk", "category_id"))
    weights = [1 / rank for rank in range(1, len(nominees) + 1)]
    now, rng = timezone.now(), random.Random(1)
    picks = rng.choices(nominees, weights, k=VOTES)
    Vote.objects.bulk_create(
        [
            Vote(
                award_id=award_id,
                nominee_id=pk,
                category_id=category_id,
                created_at=now - timedelta(seconds=n),
                voter_key=f"{n:032x}",
                ip=f"10.{n // 65536}.{n // 256 % 256}.{n % 256}",
            )
            for n, (pk, category_id) in enumerate(picks)
        ],
        batch_size=2000,
    )
    standings_rebuild(award_id=award_id)
    return Nominee.objects.get(pk=nominees[0][0]).slug


def beat(award_id: int, stop: threading.Event) -> None:
    """What the beat does for an open award: a recompute every STANDINGS_REFRESH_SECONDS."""
    from django.conf import settings

    from voting.standings.services import standings_recompute

    while not stop.wait(settings.STANDINGS_REFRESH_SECONDS):
        standings_recompute(award_id=award_id)


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except OSError:
            continue
        if int(fields["PPid"]) == master:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


def main() -> int:
    args = arguments(
        __doc__,
        duration=(10, "seconds per run"),
        rounds=(3, "rounds over every page"),
        warmup=(2, "warm-up seconds per page"),
        connections=(64, "wrk connections"),
        page=(None, "measure only this page (repeatable; default: all)"),
    )
    with Stack() as stack:
        from django import db

        from awards.models import Award

        award_id = Award.objects.get(slug=AWARD).pk
        leader = seed_votes(award_id)
        db.connections.close_all()
        pages = {
            BARE: "/bench/page/",
            "nominee page": f"/{AWARD}/{leader}/",
            "award home": f"/{AWARD}/",
            "overall standings": f"/{AWARD}/standings/",
            "standings JSON": f"/api/{AWARD}/standings/",
        }
        if args.page:
            pages = {name: path for name, path in pages.items() if name in [BARE, *args.page]}
        mixed = [path.format(award=AWARD, nominee=leader) for path in MIXED]
        stack.start(workers=3, threads=4)
        for path in [*pages.values(), *mixed]:
            name, value = PROXY_HEADER.split(": ")
            request = urllib.request.Request(stack.url + path, headers={name: value})
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status != 200 or response.url != stack.url + path:
                    sys.exit(f"{path} answers {response.status} at {response.url}")
        stop = threading.Event()
        threading.Thread(target=beat, args=(award_id, stop), daemon=True).start()
        runs: dict[str, list[dict]] = {name: [] for name in pages}
        # Each page right after its own bare run, so that each share compares neighbours.
        ratios: dict[str, list[float]] = {name: [] for name in pages if name != BARE}
        for round_ in range(args.rounds + 1):  # round 0 is the warm-up
            seconds = args.duration if round_ else args.warmup
            for name in ratios:
                pair = []
                for measured in (BARE, name):
                    label = f"{f'round {round_}' if round_ else 'warm-up'} {measured}"
                    run = stack.wrk(pages[measured], CROWD_LUA, seconds=seconds,
                                    header=PROXY_HEADER, connections=args.connections,
                                    label=label)  # fmt: skip
                    runs[measured].append(run)
                    pair.append(run["rps"])
                if round_:
                    ratios[name].append(pair[1] / pair[0])
        rss_pages = worker_rss_mb(stack.processes["gunicorn"].pid)
        lua = MIXED_LUA % ", ".join(f'"{path}"' for path in mixed)
        mixed_run = stack.wrk("/", lua, seconds=args.duration, connections=12, header=PROXY_HEADER)
        print(f"mixed run over {len(mixed)} other URLs: {mixed_run['rps']:.0f} req/s", flush=True)
        rss = worker_rss_mb(stack.processes["gunicorn"].pid)
        stop.set()
        problems = [f"server log: {line}" for line in stack.errors()[:20]]
    for name, measured in [*runs.items(), ("mixed run", [mixed_run])]:
        problems += [
            f"{name} run {i}: {p}" for i, run in enumerate(measured) for p in run["problems"]
        ]
    keys = ("rps", "p50_ms", "p99_ms")
    warmups = {name: 1 if name != BARE else len(ratios) for name in runs}
    median = {
        n: {k: statistics.median(r[k] for r in runs[n][warmups[n] :]) for k in keys} for n in runs
    }
    share = {name: statistics.median(each) for name, each in ratios.items()}
    passed = min(share.values()) >= TARGET and max(rss) < RSS_LIMIT_MB and not problems
    print(f"\nMedian of {args.rounds} rounds of {args.duration} s, wrk -c{args.connections}:")
    for name, figures in median.items():
        print(
            f"  {name:24} {figures['rps']:7.0f} req/s  {share.get(name, 1):6.1%}  "
            f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms"
        )
    print(f"  web worker RSS after the page runs: {', '.join(f'{mb:.0f} MB' for mb in rss_pages)}")
    print(f"  web worker RSS after the mixed run: {', '.join(f'{mb:.0f} MB' for mb in rss)}")
    print("\n".join(["", *problems]) if problems else "")
    print(f"every page >= {TARGET:.0%} of the bare view, RSS < {RSS_LIMIT_MB} MB, a clean run: "
          f"{'PASS' if passed else 'FAIL'}")  # fmt: skip
    save_results(
        {
            "settings": vars(args) | {"votes": VOTES, "workers": 3, "threads": 4},
            "median": median,
            # Each page's requests/s over the bare run just before it: the median of the rounds.
            "share_of_bare": share,
            "shares_per_round": ratios,
            "worker_rss_mb_after_pages": rss_pages,
            "worker_rss_mb": rss,
            "mixed_run": mixed_run,
            "runs": runs,
            "problems": problems,
            "target_met": passed,
        }
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
