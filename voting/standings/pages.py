"""Public pages rendered once per version of what they show, then served from the cache.

A page of an award (its home, a category, the standings, a nominee, their JSON) shows the
catalogue and the award's standings, and both change rarely next to how often the page is
read. So the rendered body is kept in the cache with the two versions it was rendered from:
the catalogue version (awards/lookups.py, bumped by every catalogue edit) and the standings
version (the award's count of recomputes, published by voting/standings/services.py). A read uses the
body only when they still match. A process asks the cache for the versions at most once every
PAGE_VERSION_SECONDS (and whenever a body does not match them), so a read is usually one
`GET`, like any cached value: a change reaches every process's pages within that second.

What differs per voter never enters the cache: the nominee page's vote box (the voter's own
"vote again at ...", a one-time vote token and its browser check) is rendered for every request
and put in the cached body's place for it (voting/ballot/views.py).

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
from voting.standings.services import standings_catch_up, standings_version, version_key

# Pages past this one are not kept: a crawler walking every page number would only fill memory.
MAX_CACHED_PAGE_NUMBER = 100
# Bumped with CachedPage's fields, so that a new release never reads an older release's entries.
CACHED_PAGE_LAYOUT = 2
# How long the request rendering a page may take before another takes over; until then the
# others serve the body it replaces.
REBUILD_SECONDS = 10
# award slug -> (until, its versions as this process last read them; see PAGE_VERSION_SECONDS).
remembered_versions: dict[str, tuple[float, tuple]] = {}
MAX_REMEMBERED_AWARDS = 100
# (host, path, page number) -> the cache key of its body, so that a read hashes nothing.
page_keys: dict[tuple[str, str, int], str] = {}
MAX_PAGE_KEYS = 4096


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
    key = page_key(request, award_slug) if _cacheable(request) else None
    if key is None:
        return _filled(build()[0], fill)
    now = time.time()
    versions = _versions_remembered(award_slug)
    if versions is None:
        found = cache.get_many([key, *_version_keys(award_slug)])
        entry, versions = found.get(key), _versions_found(award_slug, found)
    else:
        # One read, as for any cached value; the versions are asked again only when the body
        # is not current by what this process last knew of them.
        entry = cache.get(key)
        if not _current(entry, versions, now):
            versions = _versions_found(award_slug, cache.get_many(_version_keys(award_slug)))
    if _current(entry, versions, now):
        return _served(entry, fill)
    previous = _is_page(entry) and entry.phase_ends > now
    # With a previous body to serve, one request renders while the others serve it (seconds
    # old); with none, each request renders.
    if previous and not cache.add(rendering_key(key), 1, timeout=REBUILD_SECONDS):
        return _served(entry, fill)
    try:
        response, award = build()
        _keep(key, versions, response, award)
    finally:
        if previous:
            cache.delete(rendering_key(key))
    return _filled(response, fill)


def _is_page(entry: object) -> bool:
    return isinstance(entry, CachedPage)


def _current(entry: object, versions: tuple, now: float) -> bool:
    if not _is_page(entry) or entry.versions != versions:
        return False
    return entry.expires > now and entry.phase_ends > now


def _version_keys(award_slug: str) -> list[str]:
    return [CATALOGUE_VERSION_KEY, version_key(award_slug)]


def _versions_found(award_slug: str, found: dict) -> tuple:
    """(catalogue version, standings version) from a cache read, reading or minting what it
    lacks, and remembered for this process; None for a version the cache cannot give."""
    catalogue = found.get(CATALOGUE_VERSION_KEY)
    if catalogue is None:
        catalogue = catalogue_version()
    standings = found.get(version_key(award_slug))
    if standings is None:
        standings = standings_version(award_slug=award_slug)
    versions = (catalogue, standings)
    if None not in versions and settings.PAGE_VERSION_SECONDS > 0:
        if len(remembered_versions) >= MAX_REMEMBERED_AWARDS:
            remembered_versions.clear()
        remembered_versions[award_slug] = (
            time.monotonic() + settings.PAGE_VERSION_SECONDS,
            versions,
        )
    return versions


def _versions_remembered(award_slug: str) -> tuple | None:
    remembered = remembered_versions.get(award_slug)
    if remembered is None or remembered[0] <= time.monotonic():
        return None
    return remembered[1]


def forget_page_versions() -> None:
    remembered_versions.clear()


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


def rendering_key(key: str) -> str:
    return f"{key}:rendering"


def _cacheable(request: HttpRequest) -> bool:
    """Only anonymous reads share a body: a signed-in organizer's page may carry messages."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        # Most requests have no query string: they need not parse one.
        and not (request.META.get("QUERY_STRING") and request.GET.get("q"))
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def page_key(request: HttpRequest, award_slug: str) -> str | None:
    """The body's key: ?page= changes what a page shows; any other parameter (ref, utm_*)
    does not."""
    number = request.GET.get("page", "1") if request.META.get("QUERY_STRING") else "1"
    if not number.isdigit() or int(number) > MAX_CACHED_PAGE_NUMBER:
        return None
    # The host is part of the body (canonical and preview URLs are absolute).
    what = (request.get_host(), request.path, int(number))
    key = page_keys.get(what)
    if key is None:
        digest = hashlib.sha256(f"{CACHED_PAGE_LAYOUT}|{'|'.join(map(str, what))}".encode())
        key = f"pages:{award_slug}:{digest.hexdigest()[:32]}"
        # A crawler walking every nominee and page number must not grow it without end.
        if len(page_keys) >= MAX_PAGE_KEYS:
            page_keys.clear()
        page_keys[what] = key
    return key


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
