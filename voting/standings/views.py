from functools import partial

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from awards.lookups import get_award_or_404, get_category_or_404, search_query
from awards.models import Award, NomineeQuerySet
from voting.standings.pages import page_cached
from voting.standings.public import award_results
from voting.standings.services import standings_leaders, standings_snapshot, standings_visibility

NOMINEES_PER_PAGE = 48


def home(request: HttpRequest) -> HttpResponse:
    awards = Award.objects.annotate(
        nominee_count=Count("nominees", filter=Q(nominees__is_active=True))
    )
    return render(request, "awards/home.html", {"awards": awards, "now": timezone.now()})


def award_detail(request: HttpRequest, award_slug: str) -> HttpResponse:
    build = partial(award_detail_response, request, award_slug)
    return page_cached(request, award_slug=award_slug, build=build)


def award_detail_response(request: HttpRequest, award_slug: str) -> tuple[HttpResponse, Award]:
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
        placings = [*results.overall_winners, *(p for _c, ps in results.categories for p in ps)]
        for placing in placings:
            placing.nominee.award = award  # each winner's link, without a query per row
        context["results"] = results
    elif not visibility.hidden:
        top, leaders = standings_leaders(award)
        context.update({"top": top, "leaders": leaders, "snapshot": standings_snapshot(award)})
    return render(request, "awards/award.html", context), award


def category_detail(request: HttpRequest, award_slug: str, category_slug: str) -> HttpResponse:
    build = partial(category_detail_response, request, award_slug, category_slug)
    return page_cached(request, award_slug=award_slug, build=build)


def category_detail_response(
    request: HttpRequest, award_slug: str, category_slug: str
) -> tuple[HttpResponse, Award]:
    category = get_category_or_404(award_slug, category_slug)
    context = {
        "award": category.award,
        "category": category,
        "now": timezone.now(),
        **nominee_gallery(request, category.nominees.all()),
    }
    return render(request, "awards/category.html", context), category.award


def nominee_gallery(request: HttpRequest, nominees: NomineeQuerySet) -> dict:
    """One page of the photo grid: the active nominees matching ?q=, by name, at ?page=."""
    query = search_query(request)
    found = nominees.active().search(query).order_by("name", "id")
    page = Paginator(found, NOMINEES_PER_PAGE).get_page(request.GET.get("page"))
    return {"query": query, "page": page}
