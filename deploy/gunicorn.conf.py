"""gunicorn for Laurel's web containers (docker-compose.yml: gunicorn -c deploy/gunicorn.conf.py).

Processes: WEB_CONCURRENCY (3); anything else can be changed with GUNICORN_CMD_ARGS, e.g.
"--threads 8".
"""

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
# Restart each worker now and then, at staggered times, so a slow leak never grows.
max_requests = 10000
max_requests_jitter = 1000
# django-structlog logs every request, with its id; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
