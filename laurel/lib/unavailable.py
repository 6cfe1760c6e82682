"""A database that cannot be reached is an outage to wait out, not a bug: a clean 503.

While PostgreSQL restarts or fails over, every request that needs it gets the styled "try
again shortly" page (or JSON for scripts and the vote button) with Retry-After, instead of the
500 page that says something is broken. Nothing half-done survives: a vote is one statement in
one transaction, so an interrupted one is rolled back by the database.

Recovery needs nobody: the failed query marks the connection as having had errors, and Django
closes an unusable connection when the request ends (CONN_HEALTH_CHECKS checks a persistent one
before the next request reuses it), so the next request connects afresh.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from laurel.lib.responses import error_json, wants_json

logger = logging.getLogger(__name__)

# Long enough for a restart or a failover, short enough that a voter's retry soon succeeds.
RETRY_AFTER_SECONDS = 10
MESSAGE = "Laurel can't reach its database for a moment. Please try again in a minute."
VOTE_MESSAGE = (
    "Not recorded: Laurel can't reach its database for a moment. Please vote again in a minute."
)
PLAIN_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Back in a moment · Laurel</title>"
    "<h1>Back in a moment</h1><p>{}</p></html>"
)


class DatabaseUnavailableMiddleware:
    """Answers a lost database connection with 503 and Retry-After; other errors pass on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Only the connection's errors: a failed constraint or bad data is a bug worth a 500.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable for %s %s: %s", request.method, request.path, exception
        )
        return unavailable_response(request)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        response = error_json(
            request,
            503,
            MESSAGE,
            outcome="unavailable",
            counted=False,
            retry_after=RETRY_AFTER_SECONDS,
            html=format_html('<p class="outcome" role="alert">{}</p>', VOTE_MESSAGE),
        )
    else:
        response = HttpResponse(_page(request), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _page(request: HttpRequest) -> str:
    try:
        return render_to_string("503.html", {"message": MESSAGE}, request=request)
    except (OperationalError, InterfaceError):
        # A context processor reached for the database (a session, say): the page without it.
        return format_html(PLAIN_PAGE, MESSAGE)
