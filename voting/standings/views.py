from functools import partial

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from awards.lookups import get_award_or_404, get_category_or_404, get_nominee_or_404, search_query
from awards.models import Award, NomineeQuerySet
from laurel.lib.responses import shared_page
from voting.models import PublishedResult
from voting.standings.pages import page_cached
from voting.standings.public import award_results, public_standing
from voting.standings.results import results_frozen, results_list
from voting.standings.services import (
    StandingsVisibility,
    standings_leaders,
    standings_list,
    standings_snapshot,
    standings_visibility,
)

NOMINEES_PER_PAGE = 48
STANDINGS_PER_PAGE = 50


@shared_page
def home(request: HttpRequest) -> HttpResponse:
    awards = Award.objects.annotate(
        nominee_count=Count("nominees", filter=Q(nominees__is_active=True))
    )
    return render(request, "voting/standings/home.html", {"awards": awards, "now": timezone.now()})


@shared_page
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
    return render(request, "voting/standings/award.html", context), award


@shared_page
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
    return render(request, "voting/standings/category.html", context), category.award


def nominee_gallery(request: HttpRequest, nominees: NomineeQuerySet) -> dict:
    """One page of the photo grid: the active nominees matching ?q=, by name, at ?page=."""
    query = search_query(request)
    found = nominees.active().search(query).order_by("name", "id")
    page = Paginator(found, NOMINEES_PER_PAGE).get_page(request.GET.get("page"))
    return {"query": query, "page": page}


def standings_context(request: HttpRequest, award, category=None) -> dict:
    now = timezone.now()
    visibility = standings_visibility(award, now)
    context = {"award": award, "category": category, "now": now, "visibility": visibility}
    if visibility.hidden:
        return context  # nothing about the standings is even read
    query = search_query(request)
    # Once published, the frozen final standings: later voids wait for a re-publication.
    frozen = results_frozen(award, now)
    if frozen:
        rows = results_list(award, category=category, query=query)
    else:
        rows = standings_list(award, category=category, query=query)
    page = Paginator(rows, STANDINGS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.nominee.award = award  # each row's link, without a query per row
    context.update(
        {
            "final": frozen,
            "snapshot": None if frozen else standings_snapshot(award),
            "query": query,
            "page": page,
            "categories": award.categories.all(),
        }
    )
    return context


@shared_page
def standings(request: HttpRequest, award_slug: str) -> HttpResponse:
    def build() -> tuple[HttpResponse, Award]:
        award = get_award_or_404(award_slug)
        return render(
            request, "voting/standings/standings.html", standings_context(request, award)
        ), award

    return page_cached(request, award_slug=award_slug, build=build)


@shared_page
def category_standings(request: HttpRequest, award_slug: str, category_slug: str) -> HttpResponse:
    def build() -> tuple[HttpResponse, Award]:
        category = get_category_or_404(award_slug, category_slug)
        context = standings_context(request, category.award, category)
        return render(request, "voting/standings/standings.html", context), category.award

    return page_cached(request, award_slug=award_slug, build=build)


def standing_json(request, row, visibility: StandingsVisibility, *, category: bool) -> dict:
    # As on the pages (voting/standings/public.py): nobody is ranked in a field of zeros.
    ranked = row.votes > 0
    item = {
        "nominee": row.nominee.name,
        "slug": row.nominee.slug,
        "url": request.build_absolute_uri(row.nominee.get_absolute_url()),
        "category": row.category.name,
        "rank": (row.category_rank if category else row.overall_rank) if ranked else None,
        "category_rank": row.category_rank if ranked else None,
        "overall_rank": row.overall_rank if ranked else None,
    }
    if isinstance(row, PublishedResult):
        # Published results: "winner", "finalist" or null, as the organizers marked them.
        item["result"] = row.result or None
    if visibility.show_counts:
        item["votes"] = row.votes
    return item


@shared_page
def standings_api(request: HttpRequest, award_slug: str, category_slug: str | None = None):
    build = partial(standings_api_response, request, award_slug, category_slug)
    return page_cached(request, award_slug=award_slug, build=build)


def standings_api_response(
    request: HttpRequest, award_slug: str, category_slug: str | None
) -> tuple[JsonResponse, Award]:
    if category_slug is None:
        award, category = get_award_or_404(award_slug), None
    else:
        category = get_category_or_404(award_slug, category_slug)
        award = category.award
    context = standings_context(request, award, category)
    visibility = context["visibility"]
    payload = {
        "award": award.name,
        "category": category.name if category else None,
        "visible": not visibility.hidden,
        "counts_visible": visibility.show_counts,
    }
    if visibility.hidden:
        payload["reason"] = visibility.reason
    else:
        page, snapshot, final = context["page"], context["snapshot"], context["final"]
        if final:
            updated_at = award.results_published_at
        else:
            updated_at = snapshot.computed_at if snapshot else None
        payload.update(
            {
                "final": final,
                "updated_at": updated_at.isoformat() if updated_at else None,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "count": page.paginator.count,
                "results": [
                    standing_json(request, row, visibility, category=bool(category)) for row in page
                ],
            }
        )
    return public_json(payload), award


@shared_page
def nominee_api(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    build = partial(nominee_api_response, request, award_slug, nominee_slug)
    return page_cached(request, award_slug=award_slug, build=build)


def nominee_api_response(
    request: HttpRequest, award_slug: str, nominee_slug: str
) -> tuple[JsonResponse, Award]:
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    now = timezone.now()
    public = public_standing(nominee, now=now)
    payload = {
        "nominee": nominee.name,
        "slug": nominee.slug,
        "url": request.build_absolute_uri(nominee.get_absolute_url()),
        "award": nominee.award.name,
        "category": nominee.category.name,
        "visible": not public.visibility.hidden,
        "voting_open": nominee.award.is_open(now),
        "voting_closes": nominee.award.voting_closes.isoformat(),
        # "winner" or "finalist" once the results are published, else null.
        "result": public.result,
    }
    if public.visibility.hidden:
        payload["reason"] = public.visibility.reason
        return public_json(payload), nominee.award
    # Ranks are null while the nominee has no votes.
    payload.update(
        {
            "rank": public.category_rank,
            "category_rank": public.category_rank,
            "overall_rank": public.overall_rank,
        }
    )
    if public.votes is not None:
        payload["votes"] = public.votes
    return public_json(payload), nominee.award


def public_json(payload: dict) -> JsonResponse:
    # Open to every site: widgets and dashboards read the standings from their own pages.
    return JsonResponse(payload, headers={"Access-Control-Allow-Origin": "*"})
