"""Laurel's own settings, with bench/urls.py as the URLconf (adds the bare-insert baseline view).

Nothing else changes: real mode is selected by the same environment variables as production
(LAUREL_MODE=real, DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS), which
bench/vote_bench.py sets.
"""

from laurel.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
