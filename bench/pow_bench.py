"""The browser check's price: solve times natively and in Chromium at phone size, per algorithm.

    .venv/bin/python bench/pow_bench.py [--samples 10] [--native-samples 20] [--throttle 4]

Challenges as voting/ballot/pow.py makes them, over the award's difficulties, for SHA-256, PBKDF2,
scrypt and the check in use; "native" is altcha's Python solver, "phone" Debian's Chromium at
phone size with its CPU slowed by --throttle, in the widget's Web Worker. Target: the phone's
median for the check in use at the maximum difficulty is at most 3 s.
"""

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import altcha

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.stack import CHROMIUM, arguments, save_results  # noqa: E402

VENDOR = ROOT / "static" / "vendor" / "altcha"
DIFFICULTIES = [5_000, 20_000, 50_000, 100_000, 200_000]
# (label, algorithm, cost per attempt, worker), compared at one attempt per `cost` of difficulty;
# "in use" is voting/ballot/pow.py's own challenge, whatever it is.
ALGORITHMS = [
    ("SHA-256", "SHA-256", 1, "sha.js"),
    ("PBKDF2 x100", "PBKDF2/SHA-256", 100, "pbkdf2.js"),
    ("SCRYPT N=64", "SCRYPT", 64, "scrypt.js"),
    ("in use", None, None, None),
]
# localhost, because WebCrypto (the PBKDF2 worker's) exists only in a secure context.
ORIGIN = "http://localhost"
PAGE = """<!doctype html><meta name=viewport content="width=device-width">
<script type=module src="/altcha.min.js"></script>
<altcha-widget challenge="/challenge" auto="off" display="invisible"></altcha-widget>
<script type=module>
await customElements.whenDefined("altcha-widget");
for (const [name, file] of Object.entries(%s)) {
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
      const seconds = (performance.now() - began) / 1000;
      const found = state === "verified" && JSON.parse(atob(event.detail.payload)).solution;
      resolve(found ? [seconds, found.counter + 1] : null);
    }
  };
  widget.addEventListener("statechange", done);
  widget.reset();
  widget.verify();
});
</script>"""


def challenge(label: str, difficulty: int) -> dict:
    from voting.ballot import pow

    expires = datetime.now(UTC) + timedelta(minutes=10)
    if label == "in use":
        return pow.challenge_issue(token_nonce="bench", difficulty=difficulty, expires_at=expires)
    _label, algorithm, cost, _worker = next(a for a in ALGORITHMS if a[0] == label)
    counter = secrets.randbelow(max(2 * (difficulty // cost), 2))  # attempts expected: counter
    keys = {"hmac_secret": "bench", "hmac_key_secret": "bench-key", "data": {"token": "bench"}}
    made = altcha.create_challenge(
        algorithm, cost=cost, counter=counter, expires_at=expires, **keys
    )
    return made.to_dict()


def native(label: str, difficulty: int, samples: int) -> list[tuple[float, int]]:
    """Seconds and attempts (the counter found, plus one) of each solve."""
    solves = []
    for _ in range(samples):
        parsed = altcha.Challenge.from_dict(challenge(label, difficulty))
        began = time.perf_counter()
        solution = altcha.solve_challenge(parsed, timeout=300)
        solves.append((time.perf_counter() - began, solution.counter + 1))
    return solves


def workers_folder() -> Path:
    """The vendored widget, and every worker of the same altcha version from the npm registry."""
    folder = Path(tempfile.mkdtemp())
    version = (VENDOR / "README.md").read_text().split("altcha@", 1)[1].split()[0].strip("`.)")
    subprocess.run(["npm", "pack", "--silent", f"altcha@{version}"], cwd=folder, check=True)
    subprocess.run(["tar", "xzf", f"altcha-{version}.tgz"], cwd=folder, check=True)
    (folder / "workers").symlink_to(folder / "package" / "dist" / "workers")
    (folder / "altcha.min.js").symlink_to(VENDOR / "altcha.min.js")
    workers = {name: file for _label, name, _cost, file in ALGORITHMS if name}
    (folder / "index.html").write_text(PAGE % json.dumps(workers))
    return folder


async def browser(folder: Path, runs: list, throttle: float, samples: int) -> dict:
    from playwright.async_api import async_playwright

    found, now = {}, {}

    async def serve(route) -> None:
        """The page, widget and workers from `folder`, and the challenge being timed."""
        path = route.request.url.removeprefix(ORIGIN + "/")
        if path == "challenge":
            return await route.fulfill(json=now["challenge"])
        await route.fulfill(path=folder / path)

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        context = await chromium.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 7) Mobile Safari/537.36",
        )
        await context.route(ORIGIN + "/**", serve)
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        await page.goto(ORIGIN + "/index.html")
        await page.wait_for_function("window.solve !== undefined")
        for label, difficulty in runs:
            solves = []
            for _ in range(samples):
                now["challenge"] = challenge(label, difficulty)
                solves.append(await page.evaluate("window.solve()"))
            found[label, difficulty] = [solve for solve in solves if solve]
        await chromium.close()
    return found


def summary(solves: list, spent: list) -> dict:
    """Median and p90 seconds of (seconds, attempts) solves, adding them to `spent`."""
    spent.extend(solves)
    times = sorted(seconds for seconds, _ in solves)
    if not times:
        return {"median": None, "p90": None}
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    return {"median": round(statistics.median(times), 3), "p90": round(p90, 3)}


def per_attempt(spent: dict) -> dict:
    """Microseconds an attempt (the slope of seconds over attempts, every solve, so neither the
    counter's scatter nor a solve's fixed start-up blurs it), the gap, and what one attempt costs
    altcha's solver in SHA-256 attempts (what voting/ballot/pow.py's WORK_PER_ATTEMPT should be)."""
    us = {}
    for key, solves in spent.items():
        if len(solves) > 1:
            seconds, attempts = zip(*solves, strict=True)
            us[key] = 1e6 * statistics.linear_regression(attempts, seconds).slope
    found = {}
    for label, *_ in ALGORITHMS:
        native_us, phone_us = us.get((label, "n")), us.get((label, "p"))
        found[label] = {
            "native_us": round(native_us, 1),
            "phone_us": phone_us and round(phone_us, 1),
            "phone/native": phone_us and round(phone_us / native_us, 1),
            "in_sha256": round(native_us / us["SHA-256", "n"], 1),
        }
    return found


def main() -> int:
    args = arguments(
        __doc__,
        samples=(10, "phone solves per cell"),
        native_samples=(20, "native solves per cell"),
        throttle=(4.0, "CPU slow-down for a phone"),
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from voting.ballot import pow

    runs = [(label, d) for label, *_ in ALGORITHMS for d in DIFFICULTIES]
    phone = asyncio.run(browser(workers_folder(), runs, args.throttle, args.samples))
    rows, spent = [], {(label, side): [] for label, *_ in ALGORITHMS for side in "np"}
    print(
        f"Seconds, median / p90 ({args.native_samples} native, {args.samples} phone solves; "
        f"CPU throttled {args.throttle}x; {os.cpu_count()} cores); in use: {pow.ALGORITHM}, "
        f"{pow.COST} iterations an attempt, one per {pow.WORK_PER_ATTEMPT} of difficulty"
    )
    print(f"  {'algorithm':<16} {'difficulty':>10} {'native':>15} {'phone':>15}")
    for label, difficulty in runs:
        here = summary(native(label, difficulty, args.native_samples), spent[label, "n"])
        there = summary(phone[label, difficulty], spent[label, "p"])
        rows.append(
            {"algorithm": label, "difficulty": difficulty, "native_s": here, "phone_s": there}
        )
        print(
            f"  {label:<16} {difficulty:>10,} {here['median']:>7} /{here['p90']:>6} "
            f"{there['median']!s:>7} /{there['p90']!s:>6}"
        )
    cost = per_attempt(spent)
    print(f"  {'per attempt':<16} " + " ".join(f"{h:>12}" for h in next(iter(cost.values()))))
    for label, figures in cost.items():
        print(f"  {label:<16} " + " ".join(f"{v!s:>12}" for v in figures.values()))
    used = next(r for r in rows if r["algorithm"] == "in use" and r["difficulty"] == 200_000)
    passed = used["phone_s"]["median"] is not None and used["phone_s"]["median"] <= 3
    print("PASS" if passed else "FAIL", "(the check in use, at the award's maximum difficulty)")
    config = vars(args) | {"in_use": [pow.ALGORITHM, pow.COST, pow.WORK_PER_ATTEMPT]}
    found = {"rows": rows, "per_attempt": cost, "passed": passed}
    save_results({"config": config} | found)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
