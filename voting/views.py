import re
from datetime import datetime

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from awards.models import Nominee
from awards.views import get_nominee_or_404

from .net import ip_key
from .services import Outcome, VoteResult, vote_cast, voter_next_vote_at
from .voters import voter_from, voter_key

# A vote form is a CSRF token and a channel name; anything much larger is not a vote.
MAX_VOTE_BODY = 4096
REF_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
OUTCOME_STATUS = {
    Outcome.COUNTED: 200,
    Outcome.ALREADY_VOTED: 409,
    Outcome.NOT_OPEN: 403,
    Outcome.CLOSED: 403,
}


def clean_ref(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if REF_PATTERN.match(value) else ""


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def vote_box_context(
    request: HttpRequest, nominee: Nominee, now: datetime, result: VoteResult | None
) -> dict:
    next_vote_at = result.next_vote_at if result else None
    if result is None:
        next_vote_at = voter_next_vote_at(nominee=nominee, voter_key=voter_key(request), now=now)
    share_url = request.build_absolute_uri(nominee.get_absolute_url())
    return {
        "award": nominee.award,
        "nominee": nominee,
        "now": now,
        "result": result,
        "next_vote_at": next_vote_at,
        "is_open": nominee.award.is_open(now),
        "ref": clean_ref(request.GET.get("ref") or request.POST.get("ref")),
        "share_url": share_url,
    }


@never_cache
@vary_on_headers("Cookie")
def nominee(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    """The nominee's page, which is also the link nominees share: it shows the Vote button."""
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    context = vote_box_context(request, nominee, timezone.now(), None)
    return render(request, "voting/nominee.html", context)


@never_cache
def vote(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        # Link previews and curious clicks land on the page; only a POST ever votes.
        return redirect("nominee", award_slug=award_slug, nominee_slug=nominee_slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if _body_length(request) > MAX_VOTE_BODY:
        return render(request, "voting/too_large.html", status=413)
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    rate = f"{nominee.award.ip_votes_per_hour}/h"
    if is_ratelimited(request, group="vote", key=ip_key, rate=rate, method="POST", increment=True):
        raise Ratelimited()
    now = timezone.now()
    result = vote_cast(
        nominee=nominee, voter=voter_from(request), ref=clean_ref(request.POST.get("ref")), now=now
    )
    return render_vote_result(request, nominee, result, now)


def render_vote_result(
    request: HttpRequest, nominee: Nominee, result: VoteResult, now: datetime
) -> HttpResponse:
    status = OUTCOME_STATUS[result.outcome]
    context = vote_box_context(request, nominee, now, result)
    if wants_json(request):
        payload = {
            "outcome": str(result.outcome),
            "counted": result.counted,
            "nominee": nominee.name,
            "next_vote_at": result.next_vote_at.isoformat() if result.next_vote_at else None,
            "html": render_to_string("voting/_vote_box.html", context, request=request),
        }
        return JsonResponse(payload, status=status)
    return render(request, "voting/nominee.html", context, status=status)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: the per-IP cap answered with 429 and an explanation, nothing recorded."""
    context = {"retry_minutes": 60}
    if wants_json(request):
        html = render_to_string("voting/_rate_limited.html", context, request=request)
        payload = {"outcome": "rate_limited", "counted": False, "html": html}
        response = JsonResponse(payload, status=429)
    else:
        response = render(request, "voting/rate_limited.html", context, status=429)
    response["Retry-After"] = str(context["retry_minutes"] * 60)
    return response


def _body_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_VOTE_BODY + 1
