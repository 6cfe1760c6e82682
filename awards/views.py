from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from voting.standings import standings_leaders, standings_snapshot, standings_visibility

from .models import Award, Category, Nominee

NOMINEES_PER_PAGE = 48


def get_award_or_404(award_slug: str) -> Award:
    return get_object_or_404(Award, slug=award_slug)


def get_category_or_404(award_slug: str, category_slug: str) -> Category:
    return get_object_or_404(
        Category.objects.select_related("award"), award__slug=award_slug, slug=category_slug
    )


def get_nominee_or_404(award_slug: str, nominee_slug: str) -> Nominee:
    return get_object_or_404(
        Nominee.objects.active().select_related("award", "category"),
        award__slug=award_slug,
        slug=nominee_slug,
    )


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
    if not visibility.hidden:
        top, leaders = standings_leaders(award)
        context.update({"top": top, "leaders": leaders, "snapshot": standings_snapshot(award)})
    return render(request, "awards/award.html", context)


def category_detail(request: HttpRequest, award_slug: str, category_slug: str) -> HttpResponse:
    category = get_category_or_404(award_slug, category_slug)
    query = request.GET.get("q", "")[:100]
    nominees = category.nominees.active().search(query).order_by("name", "id")
    page = Paginator(nominees, NOMINEES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "award": category.award,
        "category": category,
        "query": query,
        "page": page,
        "now": timezone.now(),
    }
    return render(request, "awards/category.html", context)


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
