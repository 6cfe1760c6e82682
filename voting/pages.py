"""Public pages rendered once per version of what they show, then served from the cache.

A page of an award (its home, a category, the standings, a nominee, their JSON) shows the
catalogue and the award's standings, and both change rarely next to how often the page is
read. So the rendered body is kept in the cache with the two versions it was rendered from:
the catalogue version (awards/lookups.py, bumped by every catalogue edit) and the standings
version (the award's count of recomputes, published by voting/standings.py). A read fetches
the body and both versions in one round trip and uses the body only when they still match.

What differs per voter never enters the cache: the nominee page's vote box (the voter's own
"vote again at ...", a CSRF token, a one-time vote token and its browser check) is filled into
the cached body on every request (voting/views.py).

Times on the page ("Updated 8 seconds ago", "2 days left") are at most PAGE_CACHE_SECONDS old,
and a body never outlives the next moment its award changes phase (voting opens or closes, a
blackout starts, results are published).

When a body goes out of date, one request renders it again and the others serve the previous body
meanwhile (for at most REBUILD_SECONDS): on voting's last night the standings change every few
seconds, and without this every request arriving during a render would render too.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from awards.lookups import CATALOGUE_VERSION_KEY, catalogue_version
from awards.models import Award

from .standings import standings_catch_up, standings_version, version_key

# Pages past this one are not kept: a crawler walking every page number would only fill memory.
MAX_CACHED_PAGE_NUMBER = 100
# Bumped with CachedPage's fields, so that a new release never reads an older release's entries.
CACHED_PAGE_LAYOUT = 2
# How long the request rendering a page may take before another takes over; until then the
# others serve the body it replaces.
REBUILD_SECONDS = 10


@dataclass(frozen=True)
class CachedPage:
    versions: tuple
    expires: float  # time.time()
    # The award's next change of phase (time.time(), or infinity): past it the body is never
    # served, not even while another request renders its successor.
    phase_ends: float
    headers: dict[str, str]
    content: bytes


def page_cached(
    request: HttpRequest,
    *,
    award_slug: str,
    build: Callable[[], tuple[HttpResponse, Award]],
    fill: Callable[[bytes], bytes] | None = None,
) -> HttpResponse:
    """The page `build()` renders, from the cache while nothing it shows has changed.

    `build` returns the response and the page's award; `fill`, if given, turns the shared body
    into this request's, on every request.
    """
    standings_catch_up(award_slug=award_slug)
    key = _page_key(request, award_slug) if _cacheable(request) else None
    if key is None:
        return _filled(build()[0], fill)
    found = cache.get_many([key, CATALOGUE_VERSION_KEY, version_key(award_slug)])
    versions = (found.get(CATALOGUE_VERSION_KEY), found.get(version_key(award_slug)))
    if versions[0] is None:
        versions = (catalogue_version(), versions[1])
    if versions[1] is None:
        versions = (versions[0], standings_version(award_slug=award_slug))
    entry = found.get(key)
    now = time.time()
    previous = isinstance(entry, CachedPage) and entry.phase_ends > now
    if previous and entry.versions == versions and entry.expires > now:
        return _served(entry, fill)
    # With a previous body to serve, one request renders while the others serve it (seconds
    # old); with none, each request renders.
    if previous and not cache.add(_rendering_key(key), 1, timeout=REBUILD_SECONDS):
        return _served(entry, fill)
    try:
        response, award = build()
        _keep(key, versions, response, award)
    finally:
        if previous:
            cache.delete(_rendering_key(key))
    return _filled(response, fill)


def _served(entry: CachedPage, fill: Callable[[bytes], bytes] | None) -> HttpResponse:
    return _filled(HttpResponse(entry.content, headers=entry.headers), fill)


def _keep(key: str, versions: tuple, response: HttpResponse, award: Award) -> None:
    if response.status_code != 200 or response.streaming or None in versions:
        return
    to_next_phase = _seconds_to_next_phase(award, timezone.now())
    seconds = min(settings.PAGE_CACHE_SECONDS, to_next_phase)
    if seconds <= 0:
        return
    now = time.time()
    entry = CachedPage(
        versions, now + seconds, now + to_next_phase, dict(response.headers), response.content
    )
    # Kept a little past `expires`, to be served while the next render is under way.
    cache.set(key, entry, timeout=int(seconds) + REBUILD_SECONDS)


def _rendering_key(key: str) -> str:
    return f"{key}:rendering"


def _cacheable(request: HttpRequest) -> bool:
    """Only anonymous reads share a body: a signed-in organizer's page may carry messages."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.GET.get("q")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _page_key(request: HttpRequest, award_slug: str) -> str | None:
    """The body's key: ?page= changes what a page shows; any other parameter (ref, utm_*)
    does not."""
    number = request.GET.get("page", "1")
    if not number.isdigit() or int(number) > MAX_CACHED_PAGE_NUMBER:
        return None
    # The host is part of the body (canonical and preview URLs are absolute).
    what = f"{CACHED_PAGE_LAYOUT}|{request.get_host()}|{request.path}|{int(number)}"
    return f"pages:{award_slug}:{hashlib.sha256(what.encode()).hexdigest()[:32]}"


def _filled(response: HttpResponse, fill: Callable[[bytes], bytes] | None) -> HttpResponse:
    if fill is not None and response.status_code == 200:
        response.content = fill(response.content)
    return response


def _seconds_to_next_phase(award: Award, now: datetime) -> float:
    """Seconds until the award's pages change with time alone (infinity if they never do)."""
    moments = [award.voting_opens, award.voting_closes, award.results_published_at]
    if award.blackout_hours:
        moments.append(award.voting_closes - timedelta(hours=award.blackout_hours))
    ahead = [(moment - now).total_seconds() for moment in moments if moment and moment > now]
    return min(ahead, default=float("inf"))
