import re

from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from voting.public import award_results
from voting.standings import standings_leaders, standings_snapshot, standings_visibility

from .models import Award, Category, Nominee, NomineeQuerySet

NOMINEES_PER_PAGE = 48
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


def home(request: HttpRequest) -> HttpResponse:
    awards = Award.objects.annotate(
        nominee_count=Count("nominees", filter=Q(nominees__is_active=True))
    )
    return render(request, "awards/home.html", {"awards": awards, "now": timezone.now()})


def award_detail(request: HttpRequest, award_slug: str) -> HttpResponse:
    award = get_award_or_404(award_slug)
    categories = award.categories.annotate(
        nominee_count=Count("nominees", filter=Q(nominees__is_active=True))
    )
    now = timezone.now()
    visibility = standings_visibility(award, now)
    context = {"award": award, "categories": categories, "now": now, "visibility": visibility}
    context.update(nominee_gallery(request, award.nominees.select_related("category")))
    # Once published, the results take the place of the live leaders.
    if results := award_results(award, now=now):
        context["results"] = results
    elif not visibility.hidden:
        top, leaders = standings_leaders(award)
        context.update({"top": top, "leaders": leaders, "snapshot": standings_snapshot(award)})
    return render(request, "awards/award.html", context)


def category_detail(request: HttpRequest, award_slug: str, category_slug: str) -> HttpResponse:
    category = get_category_or_404(award_slug, category_slug)
    context = {
        "award": category.award,
        "category": category,
        "now": timezone.now(),
        **nominee_gallery(request, category.nominees.all()),
    }
    return render(request, "awards/category.html", context)


def search_query(request: HttpRequest) -> str:
    """?q= as a search can take it: no control characters, at most MAX_QUERY characters."""
    return CONTROL_CHARACTERS.sub(" ", request.GET.get("q", ""))[:MAX_QUERY].strip()


def nominee_gallery(request: HttpRequest, nominees: NomineeQuerySet) -> dict:
    """One page of the photo grid: the active nominees matching ?q=, by name, at ?page=."""
    query = search_query(request)
    found = nominees.active().search(query).order_by("name", "id")
    page = Paginator(found, NOMINEES_PER_PAGE).get_page(request.GET.get("page"))
    return {"query": query, "page": page}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and compose: the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
