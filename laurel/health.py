"""/healthz: django-health-check's view with Laurel's own checks of what a vote needs.

Each check's message is written here, never an exception's text: /healthz is reachable
through the proxy (load balancers poll it), and a driver's error can name hosts and users.
"""

import dataclasses
import datetime
import uuid

from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session
from django.db import DatabaseError, transaction
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


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
