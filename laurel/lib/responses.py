"""Answers for scripts: whether a request wants JSON, and an error as JSON."""

from http import HTTPStatus

from django.http import HttpRequest, JsonResponse
from django.utils.html import format_html

MESSAGES = {
    400: "Laurel couldn't read that request, so nothing was recorded.",
    403: "That isn't allowed, so nothing was recorded.",
    404: "Not found: the award, category or nominee doesn't exist, or is no longer listed.",
    405: "That method isn't allowed here, so nothing was recorded.",
    413: "That request is far larger than a vote, so nothing was recorded.",
    500: "Something went wrong on Laurel's side. Please try again in a minute.",
}


def wants_json(request: HttpRequest) -> bool:
    """Scripts: the JSON API, and the vote button's fetch (Accept: application/json)."""
    if request.path.startswith("/api/"):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def error_json(
    request: HttpRequest, status: int, message: str | None = None, **fields
) -> JsonResponse:
    """{"error": message, "status": status, ...fields}; outside the API also "html", which the
    vote button shows in place of the form (static/js/vote.js)."""
    message = message or MESSAGES.get(status) or HTTPStatus(status).phrase
    payload = {"error": message, "status": status, **fields}
    if not request.path.startswith("/api/"):
        payload.setdefault("html", format_html('<p class="outcome" role="alert">{}</p>', message))
    return JsonResponse(payload, status=status)
