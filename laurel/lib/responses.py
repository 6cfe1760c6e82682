"""Answers for scripts: whether a request wants JSON, and an error as JSON."""

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
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


# --- Pages the same for everyone ------------------------------------------------------------

SHARED = "_laurel_shared_page"  # set on a response by @shared_page
# A shared cache may answer with a kept copy this long when Laurel answers with an error or not
# at all (a restart, a database outage): an hour-old standings page beats an error page.
STALE_IF_ERROR_SECONDS = 600
# Query parameters a shared page may be asked with. The proxy's cache key names the first three
# (deploy/nginx/cached.conf) and drops the others, which only say where a visitor came from.
SHARED_PAGE_PARAMETERS = frozenset({"q", "page", "v"})
TRACKING_PARAMETERS = frozenset({"ref", "fbclid", "gclid", "mc_cid", "mc_eid"})


def shared_cache_control(response: HttpResponse, *, browser_seconds: int = 0) -> None:
    """What changes with the standings: a shared cache keeps it SHARED_PAGE_SECONDS and may
    serve it as long again while it asks Laurel for the next (stale-while-revalidate), so that a
    vote shows within about three times SHARED_PAGE_SECONDS; a browser keeps it
    `browser_seconds`, then revalidates with the ETag (a 304)."""
    seconds = settings.SHARED_PAGE_SECONDS
    patch_cache_control(
        response,
        public=True,
        max_age=browser_seconds,
        s_maxage=seconds,
        stale_while_revalidate=seconds,
        stale_if_error=STALE_IF_ERROR_SECONDS,
    )


def immutable_cache_control(response: HttpResponse, *, seconds: int = 365 * 24 * 60 * 60) -> None:
    """What is named by its content: kept as long as anyone likes, never asked for again."""
    patch_cache_control(response, public=True, max_age=seconds, immutable=True)


def shared_query(request: HttpRequest) -> bool:
    """Whether the proxy keys this query string as Laurel reads it: each parameter a page reads
    at most once, in the case it is read in (nginx's $arg_page matches ?PAGE= too), and
    otherwise only tracking parameters. Anything else is answered but never kept, so that no
    request can store a page under another request's key."""
    for name, values in request.GET.lists():
        if name in SHARED_PAGE_PARAMETERS:
            if len(values) > 1:
                return False
        elif name not in TRACKING_PARAMETERS and not name.startswith("utm_"):
            return False
    return True


def shared_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Marks a view whose page is the same for every visitor (award pages, standings, rules):
    answered to a request without cookies, it may be kept by a shared cache (SharedPages)."""

    @wraps(view)
    def marked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        setattr(response, SHARED, True)
        return response

    return marked


class SharedPages:
    """A shared page answered to a request without cookies, with nothing set or varied by one,
    says a proxy or CDN may keep it (shared_cache_control); browsers revalidate at once
    (ConditionalGetMiddleware's ETag, a 304).

    Placed above the session and CSRF middleware, so it sees every cookie they set.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(response, SHARED, False)
            and request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not request.COOKIES
            and not response.cookies
            and "Cookie" not in response.get("Vary", "")
            and "Cache-Control" not in response
            and shared_query(request)
        ):
            shared_cache_control(response)
        return response
