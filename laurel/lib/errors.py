"""Errors in Laurel's voice: a styled page for people, JSON for scripts, and a 400 for input
that could only fail deeper down (a NUL that PostgreSQL refuses, a body in a charset no form
uses). Every error page says what happened and that nothing was recorded."""

import logging
import sys
from dataclasses import dataclass

from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from laurel.lib.responses import error_json, wants_json
from laurel.lib.unavailable import unavailable_response

logger = logging.getLogger(__name__)

CSRF_MESSAGE = (
    "Nothing was recorded: the page was open too long, or this browser blocks Laurel's "
    "cookie. Reload the page and try again."
)
PLAIN_500 = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Something went wrong · Laurel</title>"
    "<h1>Something went wrong on our side</h1><p>Please try again in a minute.</p></html>"
)
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# Headers that still mean something on the JSON version of an error.
KEPT_HEADERS = ("Retry-After", "Allow", "Access-Control-Allow-Origin", "Cache-Control")


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    if wants_json(request):
        return error_json(request, status)
    return render(request, f"{status}.html", status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exception(), OperationalError | InterfaceError):
        # The database went away outside the views (a session read, say): an outage, not a bug.
        return unavailable_response(request)
    if wants_json(request):
        return error_json(request, 500)
    # No request context: a context processor (the session, the user) may be what failed.
    try:
        page = render_to_string("500.html")
    except Exception:  # a missing static manifest, say: the words still reach the person
        logger.exception("the 500 page could not be rendered")
        page = PLAIN_500
    return HttpResponseServerError(page)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    retry = retry_link(request)
    if wants_json(request):
        html = render_to_string("_csrf_retry.html", {"retry": retry}, request=request)
        return error_json(request, 403, CSRF_MESSAGE, html=html)
    return render(request, "403_csrf.html", {"reason": reason, "retry": retry}, status=403)


@dataclass(frozen=True)
class RetryLink:
    url: str
    label: str


def retry_link(request: HttpRequest) -> RetryLink:
    """The button that fixes a refused form: a fresh copy of the page the form was on."""
    match = request.resolver_match
    if match is not None and match.url_name == "vote":
        return RetryLink(reverse("nominee", kwargs=match.kwargs), "Reload and vote")
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, {request.get_host()}, require_https=request.is_secure()
    ):
        return RetryLink(referer, "Reload the page")
    return RetryLink(reverse("home"), "See all awards")


def unreadable(request: HttpRequest) -> str | None:
    """Why this request cannot be read safely, or None."""
    if "\x00" in request.path:
        return "a NUL character in the path"
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORM_TYPES:
        charset = request.content_params.get("charset", "")
        if charset and not _ascii_compatible(charset):
            return f"a form body declared as {charset}"
    return None


def _ascii_compatible(charset: str) -> bool:
    """Form bodies are ASCII with escapes; UTF-16 and friends cannot even be split into fields."""
    try:
        return "a=b&c".encode(charset) == b"a=b&c"
    except LookupError:
        return True  # Django ignores a charset it doesn't know and reads UTF-8


class ErrorMiddleware:
    """Refuses unreadable requests with 400, answers a NUL the database refuses with 400, and
    gives JSON callers every error as JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if problem := unreadable(request):
            logger.info("400 for %s %s: %s", request.method, request.path, problem)
            response = error_page(request, 400)
        else:
            response = self.get_response(request)
        if response.status_code >= 400 and wants_json(request) and not _is_json(response):
            # A 405 from a decorator, a 413 page, Django's own handlers in DEBUG.
            json = error_json(request, response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    json[header] = response[header]
            response = json
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # The net under every search box and filter: pages clean their own text (a NUL in the
        # gallery's search is dropped), but PostgreSQL refuses one in any text it is sent, and
        # that is the client's bad input, not Laurel's bug.
        if isinstance(exception, DataError) and "NUL" in str(exception):
            logger.info("400 for %s %s: %s", request.method, request.path, exception)
            return error_page(request, 400)
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
