"""The catalogue as the vote endpoint reads it: from memory, refreshed every few seconds."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404

from .models import Nominee
from .views import get_award_or_404, get_nominee_or_404

MAX_AWARDS = 50


@dataclass(frozen=True)
class _AwardEntry:
    expires: float
    nominees: dict[str, Nominee]


# award slug -> its active nominees (each with its award and category). Per process: an edit in
# the admin reaches every process within CATALOGUE_CACHE_SECONDS.
_awards: dict[str, _AwardEntry] = {}


def nominee_for_voting(award_slug: str, nominee_slug: str) -> Nominee:
    """The active nominee (with its award and category) behind a vote URL, or Http404.

    Votes spread over a thousand nominees, and a viral one gets them by the hundred a second;
    loading an award's nominees in one query every few seconds takes a lookup off every vote.
    """
    ttl = settings.CATALOGUE_CACHE_SECONDS
    if ttl <= 0:
        return get_nominee_or_404(award_slug, nominee_slug)
    now = time.monotonic()
    entry = _awards.get(award_slug)
    if entry is None or entry.expires <= now:
        entry = _load_award(award_slug, expires=now + ttl)
    try:
        return entry.nominees[nominee_slug]
    except KeyError:
        raise Http404("No such nominee") from None


def _load_award(award_slug: str, *, expires: float) -> _AwardEntry:
    award = get_award_or_404(award_slug)
    nominees = Nominee.objects.active().filter(award=award).select_related("category")
    entry = _AwardEntry(expires, {nominee.slug: nominee for nominee in nominees})
    for nominee in entry.nominees.values():
        nominee.award = award
    if len(_awards) >= MAX_AWARDS:
        _awards.clear()
    _awards[award_slug] = entry
    return entry


def forget_cached_nominees() -> None:
    _awards.clear()
