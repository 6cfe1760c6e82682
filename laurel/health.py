"""/healthz: django-health-check's view with Laurel's own checks of what a vote needs.

Load balancers, compose and monitors read the details (the METRICS_TOKEN bearer, or a direct
connection from METRICS_ALLOWED, as /metrics). The public, through the proxy, gets the status
alone, at most once per address every second, from a result a few seconds old: a flood of
/healthz is not a flood of database writes. Each check's message is written here, never an
exception's text: a driver's error can name hosts and users.
"""

import dataclasses
import datetime
import time
import uuid

from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from laurel.lib.net import client_networks
from laurel.lib.scrapers import scraper_allowed

# What the public's answer may be behind the checks, and how often one address may ask.
PUBLIC_RESULT_SECONDS = 5
PUBLIC_RATE = "60/m"


class _RollBack(Exception):
    pass


@dataclasses.dataclass
class DatabaseWrite(HealthCheck):
    """The database takes a write: a session row, inserted and rolled back.

    SELECT 1 passes on a read-only replica, a database in recovery or one out of disk, none of
    which can record a vote. The sessions table is built for churn and exists in every Laurel
    database; the row never commits.
    """

    timeout = datetime.timedelta(seconds=3)

    async def run(self) -> None:
        # The request's own thread and connection: a pool thread would open one per thread.
        await sync_to_async(self._write, thread_sensitive=True)()

    def _write(self) -> None:
        try:
            with transaction.atomic():
                Session.objects.create(
                    session_key=uuid.uuid4().hex,
                    session_data="",
                    expire_date=timezone.now(),
                )
                raise _RollBack
        except _RollBack:
            pass
        except DatabaseError as error:
            raise ServiceUnavailable("The database refused a write") from error


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection: nudged recomputes and cluster holds need it."""

    timeout = datetime.timedelta(seconds=3)

    def run(self) -> None:
        from laurel.celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=0)
                client = getattr(connection.default_channel, "client", None)
                if client is not None:
                    client.ping()  # Redis connects lazily; make it answer
        except Exception as error:
            raise ServiceUnavailable("The Celery broker is unreachable") from error


class HealthView(HealthCheckView):
    """django-health-check answers 500 when a check fails; load balancers and monitors read
    503 as "this instance cannot serve now", which is what a failed check means here."""

    async def dispatch(self, request, *args, **kwargs):
        response = await super().dispatch(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


CHECKS = [
    DatabaseWrite,
    "health_check.checks.Cache",
    Broker,
    "voting.standings.health.StandingsFresh",
]
detailed = HealthView.as_view(checks=CHECKS)
# (monotonic time, status) of the last run for the public: one per process is enough.
_public_result: list[tuple[float, int]] = []


def _limited(request: HttpRequest) -> bool:
    from django_ratelimit.core import is_ratelimited

    return is_ratelimited(
        request,
        group="healthz",
        key=lambda _group, request: client_networks(request).address,
        rate=PUBLIC_RATE,
        increment=True,
    )


async def healthz(request: HttpRequest) -> HttpResponse:
    """What a vote needs, 200 or 503: every check for those allowed, the status for others."""
    if scraper_allowed(request):
        return await detailed(request)
    if await sync_to_async(_limited, thread_sensitive=True)(request):
        response = JsonResponse({"status": "busy"}, status=429)
        response["Retry-After"] = "60"
        return response
    now = time.monotonic()
    if not _public_result or _public_result[-1][0] < now - PUBLIC_RESULT_SECONDS:
        status = (await detailed(request)).status_code
        _public_result[:] = [(now, status)]
    status = _public_result[-1][1]
    response = JsonResponse({"status": "ok" if status == 200 else "unavailable"}, status=status)
    response["Cache-Control"] = "no-store"
    return response
