"""Laurel's URLs, plus the benchmarks' baselines: a bare view that does one ORM INSERT, and a
bare view that returns a cached 20 KB page."""

import secrets
from functools import cache

from django.core.cache import cache as django_cache
from django.db.models import F
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from awards.models import Nominee
from laurel.urls import urlpatterns as laurel_urlpatterns
from voting.models import Vote

BARE_REF = "bench-bare"  # the bare view's rows carry it, so they are told from real votes
PAGE = ("<!doctype html>\n<title>bench</title>\n" + "<p>Laurel bench page.</p>\n" * 900)[:20480]


@cache
def fixed_nominee() -> dict:
    """One nominee of the demo award, looked up once per process."""
    found = Nominee.objects.filter(award__slug="sbia-2012").order_by("pk")
    return found.values("award_id", "category_id", nominee_id=F("pk")).first()


@csrf_exempt
@require_POST
def bare_insert(request):
    """The vote benchmark's baseline: one ORM INSERT of a Vote (the real table), a tiny response."""
    Vote.objects.create(
        **fixed_nominee(),
        created_at=timezone.now(),
        voter_key=secrets.token_hex(16),
        ip=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.headers.get("User-Agent", "")[:300],
        ref=BARE_REF,
    )
    return HttpResponse("ok\n", content_type="text/plain")


def bare_cached_page(request):
    """The page benchmark's baseline: a 20 KB page read from the cache, nothing else."""
    body = django_cache.get("bench:page")
    if body is None:
        django_cache.set("bench:page", body := PAGE, timeout=None)
    return HttpResponse(body)


# First, so that /bench/insert/ is not taken for award "bench", nominee "insert".
urlpatterns = [
    path("bench/insert/", bare_insert),
    path("bench/page/", bare_cached_page),
    *laurel_urlpatterns,
]
