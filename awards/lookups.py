"""The catalogue as pages and the vote endpoint look it up, and the version cached pages of it
are rendered from."""

import logging
import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from awards.models import Award, Category, Nominee

log = logging.getLogger(__name__)
MAX_AWARDS = 50
CATALOGUE_VERSION_KEY = "pages:catalogue"
# Searches are names, handles and headlines: a control character is never part of one, and
# PostgreSQL refuses a NUL inside a string outright.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_QUERY = 100


def get_award_or_404(award_slug: str) -> Award:
    return get_object_or_404(Award, slug=award_slug)


def get_category_or_404(award_slug: str, category_slug: str) -> Category:
    return get_object_or_404(
        Category.objects.select_related("award"), award__slug=award_slug, slug=category_slug
    )


def get_nominee_or_404(award_slug: str, nominee_slug: str) -> Nominee:
    nominee = get_object_or_404(
        Nominee.objects.active().select_related("award", "category"),
        award__slug=award_slug,
        slug=nominee_slug,
    )
    nominee.category.award = nominee.award  # the category's links, without another query
    return nominee


def search_query(request: HttpRequest) -> str:
    """?q= as a search can take it: no control characters, at most MAX_QUERY characters."""
    return CONTROL_CHARACTERS.sub(" ", request.GET.get("q", ""))[:MAX_QUERY].strip()


def catalogue_version() -> str | None:
    """The version of the catalogue that cached pages (voting/standings/pages.py) were rendered from.

    A random token rather than a counter: if the cache loses it, the next one matches no page
    rendered before. None while the cache is unreachable (pages are then rendered afresh)."""
    try:
        cache.add(CATALOGUE_VERSION_KEY, secrets.token_hex(8), timeout=None)
        return cache.get(CATALOGUE_VERSION_KEY)
    except Exception:
        return None


def catalogue_changed() -> None:
    """Every cached page is out of date: an award, category or nominee was edited."""
    try:
        cache.set(CATALOGUE_VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:
        log.warning("catalogue version not bumped; cached pages expire on their own")


# A receiver rather than a call in each admin view: the admin's forms and inlines, imports,
# seed_demo and the shell all save through the models. Bulk updates bypass it and call
# catalogue_changed() themselves (awards/admin.py's actions).
@receiver([post_save, post_delete], sender=Award, dispatch_uid="catalogue-award")
@receiver([post_save, post_delete], sender=Category, dispatch_uid="catalogue-category")
@receiver([post_save, post_delete], sender=Nominee, dispatch_uid="catalogue-nominee")
def _catalogue_saved(**kwargs) -> None:
    catalogue_changed()
    # Again once the edit commits: a page rendered meanwhile read the catalogue before it.
    transaction.on_commit(catalogue_changed)


@dataclass(frozen=True)
class _AwardEntry:
    expires: float
    nominees: dict[str, Nominee]
    version: str | None  # the catalogue version read before the nominees were loaded


# award slug -> its active nominees (each with its award and category). Per process: an edit in
# the admin reaches every process within CATALOGUE_CACHE_SECONDS.
_awards: dict[str, _AwardEntry] = {}


def nominee_for_voting(award_slug: str, nominee_slug: str) -> Nominee:
    """The active nominee (with its award and category) behind a vote URL, or Http404.

    Votes spread over a thousand nominees, and a viral one gets them by the hundred a second;
    loading an award's nominees in one query, and again only once the catalogue has changed,
    takes a lookup off every vote.
    """
    ttl = settings.CATALOGUE_CACHE_SECONDS
    if ttl <= 0:
        return get_nominee_or_404(award_slug, nominee_slug)
    now = time.monotonic()
    entry = _awards.get(award_slug)
    if entry is None or entry.expires <= now:
        entry = _refresh_award(award_slug, entry, expires=now + ttl)
    try:
        return entry.nominees[nominee_slug]
    except KeyError:
        raise Http404("No such nominee") from None


def _refresh_award(award_slug: str, entry: _AwardEntry | None, *, expires: float) -> _AwardEntry:
    # Checking the version every few seconds costs a cache read; loading a thousand nominees
    # costs tens of milliseconds in each process, and the catalogue rarely changes.
    version = catalogue_version()
    if entry is not None and version is not None and entry.version == version:
        entry = _AwardEntry(expires, entry.nominees, version)
        _awards[award_slug] = entry
        return entry
    return _load_award(award_slug, expires=expires, version=version)


def _load_award(award_slug: str, *, expires: float, version: str | None) -> _AwardEntry:
    award = get_award_or_404(award_slug)
    nominees = Nominee.objects.active().filter(award=award).select_related("category")
    entry = _AwardEntry(expires, {nominee.slug: nominee for nominee in nominees}, version)
    for nominee in entry.nominees.values():
        nominee.award = award
    if len(_awards) >= MAX_AWARDS:
        _awards.clear()
    _awards[award_slug] = entry
    return entry


def forget_cached_nominees() -> None:
    _awards.clear()
