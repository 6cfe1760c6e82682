"""What a public page costs a web worker, in CPU instructions per request: repeatable, unlike wrk.

    .venv/bin/python bench/page_cost.py [--requests 200]

page_bench.py's shares swing by 10 points between runs on a shared machine. This counts the
instructions a worker's Python executes for one request (valgrind's callgrind, which counts
rather than times): each page through Laurel's WSGI application in one process, real mode
(PostgreSQL, Redis), 20,000 votes, no cookies, as wrk sends them. A page's count is that of a
run of N requests less that of a run of none, divided by N, so start-up and warm-up cancel out
(both runs collect garbage once after the warm-up and freeze what is left, so that a full
collection set off by what start-up made never lands among the counted requests).
Redis's and PostgreSQL's own work, and the kernel's, are not counted: they are about the same for
every page (one cache GET, no query).

Two more runs take the nominee page apart: without the vote box's secrets filled in, and with
them filled in but without the two cookies a first visit is sent (the voter's and Django's CSRF
cookie).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.page_bench import AWARD, seed_votes
from bench.stack import ROOT, Stack, save_results

WARM_UP = 50
# name -> (path, variant); {nominee} is the leader's slug.
RUNS = {
    "bare cached 20 KB page": ("/bench/page/", ""),
    "nominee page": ("/{award}/{nominee}/", ""),
    "award home": ("/{award}/", ""),
    "overall standings": ("/{award}/standings/", ""),
    "standings JSON": ("/api/{award}/standings/", ""),
    "nominee page, vote box not filled": ("/{award}/{nominee}/", "no-fill"),
    "nominee page, no cookies sent": ("/{award}/{nominee}/", "no-cookies"),
}


def child(path: str, requests: int, variant: str) -> None:
    """Inside valgrind: warm up, then `requests` GETs of `path`, straight into the WSGI app."""
    import gc
    import io
    import logging

    import django

    django.setup()
    # The worker's two log lines per request are the same for every page (bench/README.md).
    logging.disable(logging.CRITICAL)
    from django.core.wsgi import get_wsgi_application

    import voting.ballot.views

    if variant == "no-fill":
        voting.ballot.views.vote_box_fill = lambda request, nominee, page: page
    elif variant == "no-cookies":
        fill = voting.ballot.views.vote_box_fill

        def fill_without_cookies(request, nominee, page):
            filled = fill(request, nominee, page)
            request._laurel_voter_key_is_new = False  # voting/ballot/voters.py sets no cookie
            request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", None)  # nor does CsrfViewMiddleware
            return filled

        voting.ballot.views.vote_box_fill = fill_without_cookies
    app = get_wsgi_application()

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            sys.exit(f"{path} answered {status}")

    def get() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_USER_AGENT": "wrk",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        response = app(environ, start_response)
        b"".join(response)
        response.close()

    for _ in range(WARM_UP):
        get()
    # What start-up and the warm-up made to last (imports, compiled templates, caches) would
    # otherwise set off a full collection among the counted requests of some runs and not
    # others: about 50 M instructions, 0.25 M a request over 200. A worker serving thousands
    # of requests pays it once, as a frozen heap makes it. Both runs, N requests and none, do
    # this, so that it cancels out with the rest of start-up.
    gc.collect()
    gc.freeze()
    for _ in range(requests):
        get()


def instructions(env: dict, path: str, requests: int, variant: str) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, __file__, "--child", path, str(requests), variant or "-"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        sys.exit(f"{path} under callgrind failed:\n{done.stderr[-3000:]}")
    return int(found[1])


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4].strip("-"))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests counted (200)")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    with Stack(settings="bench.settings"):
        from django import db

        from awards.models import Award

        leader = seed_votes(Award.objects.get(slug=AWARD).pk)
        db.connections.close_all()
        # The children share this process's real-mode environment (database, Redis, secret).
        # Under callgrind a second of wall time is a few requests, not hundreds: bodies kept,
        # versions and the vote catalogue trusted for an hour count the steady state between
        # changes, as a busy worker sees it (a re-render each recompute, a version read a second).
        env = dict(os.environ) | {
            "PAGE_CACHE_SECONDS": "3600",
            "PAGE_VERSION_SECONDS": "3600",
            "CATALOGUE_CACHE_SECONDS": "3600",
        }
        # Each page rendered and kept once, so that no counted run renders it (runs share Redis).
        paths = {name: path.format(award=AWARD, nominee=leader) for name, (path, _) in RUNS.items()}
        for path in set(paths.values()):
            primed = subprocess.run(
                [sys.executable, __file__, "--child", path, "0", "-"], cwd=ROOT, env=env
            )
            if primed.returncode:
                sys.exit(f"{path} failed")
        jobs = {}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for name, (_, variant) in RUNS.items():
                for n in (0, args.requests):
                    jobs[name, n] = pool.submit(instructions, env, paths[name], n, variant)
        per_request = {
            name: (jobs[name, args.requests].result() - jobs[name, 0].result()) / args.requests
            for name in RUNS
        }
    bare = per_request["bare cached 20 KB page"]
    print(f"\nInstructions per request (callgrind, {args.requests} requests after {WARM_UP}):")
    for name, count in per_request.items():
        print(f"  {name:36} {count / 1e6:6.2f} M  {count / bare:5.2f} x the bare view")
    save_results(
        "page_cost",
        {
            "settings": {"requests": args.requests, "warm_up": WARM_UP, "votes": 20_000},
            "instructions_per_request": per_request,
            "times_the_bare_view": {name: count / bare for name, count in per_request.items()},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
