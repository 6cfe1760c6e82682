"""Laurel's own settings (real mode from the environment, as bench/stack.py sets it), with
bench/urls.py as the URLconf: Laurel's URLs and the benchmarks' two baseline views."""

from laurel.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
