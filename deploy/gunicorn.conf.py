"""gunicorn for Laurel's web containers (docker-compose.yml: gunicorn -c deploy/gunicorn.conf.py).

Processes: WEB_CONCURRENCY (3); anything else can be changed with GUNICORN_CMD_ARGS, e.g.
"--threads 8".
"""

import ctypes
import os

# TCP rather than a unix socket: nginx reaches every scaled web container by name, and
# Prometheus scrapes each one; Laurel trusts X-Forwarded-For from nginx's address only.
bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = 4
# A vote takes milliseconds; a request still running after 30 s is stuck, not slow.
timeout = 30
graceful_timeout = 30
# nginx keeps its upstream connections open (keepalive 32); close them after it would.
keepalive = 75
# Restart each worker now and then, at staggered times, so a slow leak never grows; at a busy
# night's few hundred requests a second per worker, that is every several minutes, not every
# minute (each restart costs a second or two of CPU and cold in-process caches).
max_requests = 100_000
max_requests_jitter = 10_000
# django-structlog logs every request, with its id; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"

# glibc's malloc, tuned in each worker: by default it gives every thread an arena of its own
# and raises its mmap threshold after each large free, so the short-lived large buffers of a
# request (rendered pages, drawn share images) end up in heaps it seldom returns to the system.
# Two arenas, and a fixed threshold so that those buffers are mapped and unmapped, keep each
# worker's memory near what it holds.
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's malloc.h


def post_fork(server, worker):
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc (musl, macOS): nothing to tune
    libc.mallopt(M_ARENA_MAX, 2)
    libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
