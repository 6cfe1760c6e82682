"""The browser check's price: solve times natively and in Chromium at phone size, per algorithm.

    .venv/bin/python bench/pow_bench.py [--samples 8] [--throttle 4]

Challenges are made as voting/pow.py makes them (ALTCHA's deterministic mode: the counter is
drawn below twice the difficulty, so a solver expects `difficulty` attempts), for the award's
range of difficulties (base 5,000 to maximum 200,000 SHA-256 hashes) and, for each costlier
algorithm both altcha's Python package and its widget support, at a cost per attempt that
asks the same of a phone. "Native" is altcha's own solver (Python, the script's side); the
browser is Debian's Chromium, 390x844, a phone's user agent, its CPU slowed by `--throttle`
(Chrome DevTools' CPU throttling) to stand for a phone's, solving in the widget's Web Worker.
Target: the phone's median at the maximum difficulty at most 3 s.
"""

import argparse
import asyncio
import http.server
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import altcha

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENDOR = ROOT / "static" / "vendor" / "altcha"
DIFFICULTIES = [5_000, 20_000, 50_000, 100_000, 200_000]
# (label, algorithm, cost per attempt, difficulty per attempt, worker). Compared at one attempt
# per `cost` of difficulty; "in use" is voting/pow.py's own challenge, whatever it is.
ALGORITHMS = [
    ("SHA-256", "SHA-256", 1, 1, "sha.js"),
    ("PBKDF2 x100", "PBKDF2/SHA-256", 100, 100, "pbkdf2.js"),
    ("SCRYPT N=64", "SCRYPT", 64, 64, "scrypt.js"),
    ("in use", None, None, None, None),
]
PAGE = """<!doctype html><meta name=viewport content="width=device-width">
<script type=module src="/altcha.min.js"></script>
<altcha-widget challenge="/challenge" auto="off" display="invisible"></altcha-widget>
<script type=module>
await customElements.whenDefined("altcha-widget");
const workers = %s;
for (const [name, file] of Object.entries(workers)) {
  window.$altcha.algorithms.set(name, () => new Worker("/workers/" + file));
}
const widget = document.querySelector("altcha-widget");
widget.configure({ minDuration: 0 });  // the work alone: the widget waits at least 500 ms
window.solve = () => new Promise((resolve) => {
  const began = performance.now();
  const done = (event) => {
    const state = event.detail && event.detail.state;
    if (state === "verified" || state === "error") {
      widget.removeEventListener("statechange", done);
      resolve(state === "verified" ? performance.now() - began : -1);
    }
  };
  widget.addEventListener("statechange", done);
  widget.reset();
  widget.verify();
});
window.ready = true;
</script>"""


def challenge(label: str, difficulty: int) -> dict:
    from voting import pow

    if label == "in use":
        expires = datetime.now(UTC) + timedelta(minutes=10)
        return pow.challenge_issue(token_nonce="bench", difficulty=difficulty, expires_at=expires)
    _label, algorithm, cost, per_attempt, _worker = next(a for a in ALGORITHMS if a[0] == label)
    attempts = max(1, difficulty // per_attempt)
    return altcha.create_challenge(
        algorithm,
        cost=cost,
        counter=secrets.randbelow(max(2 * attempts, 2)),
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
        data={"token": "bench"},
        hmac_secret="bench",
        hmac_key_secret="bench-key",
    ).to_dict()


def native(label: str, difficulty: int, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        parsed = altcha.Challenge.from_dict(challenge(label, difficulty))
        began = time.perf_counter()
        altcha.solve_challenge(parsed, timeout=300)
        times.append(time.perf_counter() - began)
    return times


def serve(folder: Path, answer: dict) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):
            if self.path.startswith("/challenge"):
                body = json.dumps(answer["challenge"]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def workers_folder() -> Path:
    """The vendored widget, and every worker of the same altcha version from the npm registry."""
    folder = Path(tempfile.mkdtemp())
    version = (VENDOR / "README.md").read_text().split("altcha@", 1)[1].split()[0].strip("`.)")
    subprocess.run(["npm", "pack", "--silent", f"altcha@{version}"], cwd=folder, check=True)
    subprocess.run(["tar", "xzf", f"altcha-{version}.tgz"], cwd=folder, check=True)
    (folder / "workers").symlink_to(folder / "package" / "dist" / "workers")
    (folder / "altcha.min.js").symlink_to(VENDOR / "altcha.min.js")
    workers = {name: file for _label, name, _cost, _per, file in ALGORITHMS if name}
    (folder / "index.html").write_text(PAGE % json.dumps(workers))
    return folder


async def browser(url: str, answer: dict, runs: list, throttle: float, samples: int) -> dict:
    from playwright.async_api import async_playwright

    found = {}
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        context = await chromium.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 7) Mobile Safari/537.36",
        )
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        await page.goto(url + "/index.html")
        await page.wait_for_function("window.ready === true")
        for label, difficulty in runs:
            times = []
            for _ in range(samples):
                answer["challenge"] = challenge(label, difficulty)
                ms = await page.evaluate("window.solve()")
                times.append(ms / 1000 if ms >= 0 else None)
            found[label, difficulty] = times
        await chromium.close()
    return found


def summary(times: list) -> dict:
    times = sorted(t for t in times if t is not None)
    if not times:
        return {"median": None, "p90": None}
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    return {"median": round(statistics.median(times), 3), "p90": round(p90, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8, help="solves per cell (8)")
    parser.add_argument("--throttle", type=float, default=4, help="CPU slow-down for a phone (4)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awards.settings")
    import django

    django.setup()
    from bench.stack import save_results
    from voting import pow

    runs = [(label, d) for label, *_ in ALGORITHMS for d in DIFFICULTIES]
    folder, answer = workers_folder(), {}
    server, url = serve(folder, answer)
    phone = asyncio.run(browser(url, answer, runs, args.throttle, args.samples))
    server.shutdown()
    rows = []
    print(
        f"Solve times, seconds (median / p90 of {args.samples}); phone = Chromium 390x844, "
        f"CPU throttled {args.throttle}x, on {os.cpu_count()} cores; in use: "
        f"{pow.ALGORITHM}, {pow.COST} iterations an attempt, difficulty / {pow.WORK_PER_ATTEMPT}"
    )
    print(f"  {'algorithm':<16} {'work':>8} {'native':>15} {'phone':>15} {'phone/native':>12}")
    for label, difficulty in runs:
        here = summary(native(label, difficulty, args.samples))
        there = summary(phone[label, difficulty])
        ratio = round(there["median"] / here["median"], 1) if there["median"] else None
        row = {"algorithm": label, "difficulty": difficulty, "native_s": here, "phone_s": there}
        rows.append(row | {"phone_over_native": ratio})
        print(
            f"  {label:<16} {difficulty:>8,} {here['median']:>7} /{here['p90']:>6} "
            f"{there['median']!s:>7} /{there['p90']!s:>6} {ratio!s:>12}"
        )
    used = next(r for r in rows if r["algorithm"] == "in use" and r["difficulty"] == 200_000)
    passed = used["phone_s"]["median"] is not None and used["phone_s"]["median"] <= 3
    print("PASS" if passed else "FAIL", "(the check in use, at the award's maximum difficulty)")
    config = vars(args) | {"in_use": [pow.ALGORITHM, pow.COST, pow.WORK_PER_ATTEMPT]}
    save_results("pow_bench", {"config": config, "rows": rows, "passed": passed})
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
