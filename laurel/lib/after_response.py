"""Work that embedded mode does once the response has gone.

Embedded mode has no worker: a Celery task runs where it is sent (CELERY_TASK_ALWAYS_EAGER),
which for a task sent by a view is inside the request its visitor waits on. Such work is
queued here instead and run on `request_finished`, which the server sends after it has written
the response. Outside a request (a management command, a test calling a service) it runs at
once, as an eager task would.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

# The current request's queue; None outside a request.
_queued: ContextVar[list[Callable[[], object]] | None] = ContextVar(
    "laurel_after_response", default=None
)


def after_response(job: Callable[[], object]) -> None:
    """Run `job` after this request's response is sent; outside a request, now."""
    queue = _queued.get()
    if queue is None:
        job()
    else:
        queue.append(job)


def after_response_middleware(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        _queued.set([])
        return get_response(request)

    return middleware


@receiver(request_finished, dispatch_uid="laurel.after_response")
def run_queued(**kwargs) -> None:
    queue = _queued.get()
    _queued.set(None)
    for job in queue or ():
        try:
            job()
        except Exception:
            # The visitor has had their answer; the periodic task or the next page catches up.
            log.exception("work queued after a response failed")
