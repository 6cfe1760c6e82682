"""Laurel's URLs, plus the benchmarks' baselines: a bare view that does one ORM INSERT, and a
bare view that returns a cached 20 KB page."""

import secrets
from functools import cache

from django.core.cache import cache as django_cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from awards.models import Nominee
from laurel.urls import urlpatterns as laurel_urlpatterns
from voting.models import Vote

BARE_AWARD_SLUG = "sbia-2012"
# Rows the bare view inserts carry this ref, so the benchmark can tell them from real votes.
BARE_REF = "bench-bare"


@cache
def fixed_nominee() -> tuple[int, int, int]:
    """(award_id, nominee_id, category_id) of one nominee; looked up once per process."""
    award_id, nominee_id, category_id = (
        Nominee.objects.filter(award__slug=BARE_AWARD_SLUG)
        .order_by("pk")
        .values_list("award_id", "pk", "category_id")
        .first()
    )
    return award_id, nominee_id, category_id


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    """The baseline: one ORM INSERT of a Vote (same table as real votes), a tiny response."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    award_id, nominee_id, category_id = fixed_nominee()
    Vote.objects.create(
        award_id=award_id,
        nominee_id=nominee_id,
        category_id=category_id,
        created_at=timezone.now(),
        voter_key=secrets.token_hex(16),
        ip=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.headers.get("User-Agent", "")[:300],
        ref=BARE_REF,
    )
    return HttpResponse("ok\n", content_type="text/plain")


def bare_cached_page(request: HttpRequest) -> HttpResponse:
    """The page benchmark's baseline: a 20 KB page read from the cache, nothing else."""
    body = django_cache.get("bench:page")
    if body is None:
        body = "<!doctype html>\n<title>bench</title>\n" + "<p>Laurel bench page.</p>\n" * 900
        body = body[:20480]
        django_cache.set("bench:page", body, timeout=None)
    return HttpResponse(body)


# First, so that /bench/insert/ is not taken for award "bench", nominee "insert".
urlpatterns = [
    path("bench/insert/", bare_insert, name="bench-insert"),
    path("bench/page/", bare_cached_page, name="bench-page"),
    *laurel_urlpatterns,
]
