import re
from datetime import datetime
from functools import partial
from html import escape
from urllib.parse import urlencode

from django.core import signing
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from awards.csrf import csrf_token
from awards.lookups import (
    get_award_or_404,
    get_category_or_404,
    get_nominee_or_404,
    nominee_for_voting,
    search_query,
)
from awards.models import Award, Nominee
from laurel.lib.errors import wants_json
from laurel.lib.net import client_ip
from voting.ballot.pow import ALGORITHM as POW_ALGORITHM
from voting.ballot.pow import challenge_issue
from voting.ballot.services import (
    VoteResult,
    Waiting,
    vote_cast,
    voter_next_vote_at,
    voter_waiting,
)
from voting.ballot.tokens import TokenStatus, token_check, token_issue, token_lifetime
from voting.ballot.voters import voter_from, voter_key, voter_known, voter_mint_refused
from voting.integrity.assess import pow_difficulty
from voting.metrics.counters import vote_outcome_count
from voting.models import PublishedResult
from voting.sharing import images as share_images
from voting.sharing.views import image_response
from voting.standings.pages import page_cached
from voting.standings.public import public_standing
from voting.standings.results import results_frozen, results_list
from voting.standings.services import (
    StandingsVisibility,
    standings_list,
    standings_snapshot,
    standings_visibility,
)
from voting.vocabulary import Outcome

# The nominee page's shared vote box (voting/nominee.html): its markers, and the stand-ins for
# what each request fills in (plain words, which the template leaves as they are).
VOTE_BOX_START, VOTE_BOX_END = "<!--laurel:vote-box-->", "<!--/laurel:vote-box-->"
VOTE_BOX_START_BYTES, VOTE_BOX_END_BYTES = VOTE_BOX_START.encode(), VOTE_BOX_END.encode()
STANDINS = {
    "csrf_token": "laurel-standin-csrf",
    "vote_token": "laurel-standin-token",
    "ref": "laurel-standin-ref",
}
REF_INPUT = '<input type="hidden" name="ref" value="{}">'
STANDIN_CSRF = STANDINS["csrf_token"].encode()
STANDIN_TOKEN = STANDINS["vote_token"].encode()
STANDIN_REF_INPUT = REF_INPUT.format(STANDINS["ref"]).encode()
# A vote form is a CSRF token and a channel name; anything much larger is not a vote.
MAX_VOTE_BODY = 4096
STANDINGS_PER_PAGE = 50
# Browser checks one address may ask for: one a page view, so generous for an office or a
# carrier's NAT, and a bound on what an unauthenticated endpoint costs the limit store.
CHALLENGE_RATE = "1200/h"
REF_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
OUTCOME_STATUS = {
    Outcome.COUNTED: 200,
    Outcome.HELD: 202,
    Outcome.ALREADY_VOTED: 409,
    Outcome.CONFIRM: 403,
    Outcome.NOT_OPEN: 403,
    Outcome.CLOSED: 403,
}
# A vote posted without JavaScript is answered with a redirect to the nominee's page (so that
# a refresh never posts it again), which shows its outcome once, read from this cookie: signed,
# bound to the nominee, and short-lived, since the redirect is followed at once.
OUTCOME_COOKIE = "laurel_outcome"
OUTCOME_SALT = "laurel.outcome"
OUTCOME_SECONDS = 60


def clean_ref(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if REF_PATTERN.match(value) else ""


def _posted(request: HttpRequest, name: str) -> str | None:
    # A page view never parses a body it has not got.
    return request.POST.get(name) if request.method == "POST" else None


def vote_box_context(
    request: HttpRequest, nominee: Nominee, now: datetime, result: VoteResult | None
) -> dict:
    key = voter_key(request)  # reads the cookie, or mints a key for a new browser
    refused = voter_mint_refused(request)
    waiting = Waiting()
    if result is not None:
        waiting = Waiting(result.next_vote_at)
    elif not getattr(request, "_laurel_voter_key_is_new", False) and refused is None:
        # A browser seen for the first time has no ballot to look up.
        waiting = voter_waiting(nominee=nominee, voter_key=key, now=now)
    context = {
        "award": nominee.award,
        "nominee": nominee,
        "now": now,
        "is_open": nominee.award.is_open(now),
        "result": result,
        "next_vote_at": waiting.next_vote_at,
        "held": waiting.held,
        "ref": clean_ref(request.GET.get("ref") or _posted(request, "ref")),
    }
    if refused is not None:
        # No cookie can be given now, so no form that needs one: say when to come back.
        context["retry_minutes"] = max(1, -(-refused // 60))
    elif context["is_open"] and not (waiting.next_vote_at and waiting.next_vote_at > now):
        confirm = result is not None and result.outcome is Outcome.CONFIRM
        context.update(vote_form_context(request, nominee, now, confirm=confirm))
    return context


def nominee_shared_context(request: HttpRequest, nominee: Nominee, now: datetime) -> dict:
    """What the nominee's page shows every visitor alike."""
    return {
        "award": nominee.award,
        "nominee": nominee,
        "now": now,
        "is_open": nominee.award.is_open(now),
        "share_url": request.build_absolute_uri(nominee.get_absolute_url()),
        # A daily reminder in the voter's calendar (voting/sharing/views.py); add ?at=HH:MM&tz=...
        "reminder_url": reverse("reminder", args=[nominee.award.slug, nominee.slug]),
    }


def vote_form_context(
    request: HttpRequest, nominee: Nominee, now: datetime, *, confirm: bool = False
) -> dict:
    """A fresh one-time token for one rendered Vote button (`confirm`: its click confirms a
    vote that could not be taken as sent, so it needs no time on the page).

    Its browser check is priced and issued by vote_challenge when the widget asks for it (the
    token names it), so rendering the page costs one signature, not a trip to the limit store.
    """
    token = token_issue(
        voter_key=voter_key(request), nominee_id=nominee.pk, now=now, confirm=confirm
    )
    return {"vote_token": token.value}


def challenge_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


@never_cache
@require_safe
@ratelimit(key=challenge_key, rate=CHALLENGE_RATE, block=True)
def vote_challenge(request: HttpRequest, award_slug: str, nominee_slug: str) -> JsonResponse:
    """The browser check for one rendered Vote button (its token), at the current price."""
    nominee = nominee_for_voting(award_slug, nominee_slug)
    if not voter_known(request):
        # Only a page gives a browser its voter key: this endpoint never mints one.
        return JsonResponse({"error": "Reload the page to vote.", "status": 400}, status=400)
    voter = voter_from(request)
    now = timezone.now()
    checked = token_check(
        value=request.GET.get("token"), voter_key=voter.key, nominee_id=nominee.pk, now=now
    )
    if not checked.ok:
        # The widget gives up and the vote goes without the check, to be asked to confirm.
        return JsonResponse({"error": "Reload the page to vote.", "status": 400}, status=400)
    difficulty = pow_difficulty(award=nominee.award, nominee=nominee, voter=voter, now=now)
    expires_at = checked.issued_at + token_lifetime()
    challenge = challenge_issue(
        token_nonce=checked.nonce, difficulty=difficulty, expires_at=expires_at
    )
    return JsonResponse(challenge)


def nominee(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    """The nominee's page, which is also the link nominees share: it shows the Vote button.

    Everything but the vote box's secrets is the same for every visitor and comes from the
    cache (voting/standings/pages.py); the voter's own state, CSRF token and one-time vote token are
    filled in for each request (vote_box_fill).
    """

    def build() -> tuple[HttpResponse, Award]:
        nominee = get_nominee_or_404(award_slug, nominee_slug)
        context = nominee_page_context(request, nominee, timezone.now())
        response = render(request, "voting/nominee.html", context)
        # Each response holds one visitor's secrets, so no browser or proxy may keep it. The
        # headers are kept with the body, rather than added to every response (never_cache).
        add_never_cache_headers(response)
        patch_vary_headers(response, ["Cookie"])
        return response, nominee.award

    def fill(page: bytes) -> bytes:
        # The vote endpoint's in-memory catalogue: a cached page costs no catalogue query.
        try:
            nominee = nominee_for_voting(award_slug, nominee_slug)
        except Http404:
            nominee = get_nominee_or_404(award_slug, nominee_slug)  # added seconds ago
        return vote_box_fill(request, nominee, page)

    response = page_cached(request, award_slug=award_slug, build=build, fill=fill)
    if OUTCOME_COOKIE in request.COOKIES:
        response.delete_cookie(OUTCOME_COOKIE, path=request.path, samesite="Lax")
    return response


def vote_box_fill(request: HttpRequest, nominee: Nominee, page: bytes) -> bytes:
    """The shared page with this voter's vote box: the shared box with this request's secrets
    when the voter may vote and nothing else is to be said, else the box rendered for them."""
    now = timezone.now()
    result = outcome_shown_once(request, nominee, now)
    context = vote_box_context(request, nominee, now, result)
    has_form = "vote_token" in context
    if result is None and context["next_vote_at"] is None and has_form == (STANDIN_TOKEN in page):
        if not has_form:
            return page  # voting is not open: the shared box is everyone's
        ref = context["ref"]
        # Filled within the box alone, so that the page is copied once.
        start, end = _vote_box_bounds(page)
        box = (
            # The token twice: in the form, and in the address of its browser check.
            page[start:end]
            .replace(STANDIN_TOKEN, escape(context["vote_token"]).encode(), 2)
            .replace(STANDIN_CSRF, csrf_token(request).encode(), 1)
            .replace(STANDIN_REF_INPUT, REF_INPUT.format(escape(ref)).encode() if ref else b"", 1)
        )
        view = memoryview(page)
        return b"".join((view[:start], box, view[end:]))
    context["visibility"] = standings_visibility(nominee.award, now)
    box = render_to_string("voting/_vote_box.html", context, request=request).encode()
    start, end = _vote_box_bounds(page)
    view = memoryview(page)
    return b"".join(
        (view[: start - len(VOTE_BOX_START_BYTES)], box, view[end + len(VOTE_BOX_END_BYTES) :])
    )


def _vote_box_bounds(page: bytes) -> tuple[int, int]:
    """Where the shared vote box's content starts and ends, between its markers."""
    start = page.index(VOTE_BOX_START_BYTES) + len(VOTE_BOX_START_BYTES)
    return start, page.index(VOTE_BOX_END_BYTES, start)


def outcome_shown_once(request: HttpRequest, nominee: Nominee, now: datetime) -> VoteResult | None:
    """The outcome of the vote that redirected here, if any; bad or old cookies are ignored."""
    try:
        data = signing.loads(
            request.COOKIES[OUTCOME_COOKIE], salt=OUTCOME_SALT, max_age=OUTCOME_SECONDS
        )
        outcome = Outcome(data["o"])
        reasons = tuple(str(reason) for reason in data["r"])
        if data["n"] != nominee.pk:
            return None
    except (KeyError, TypeError, ValueError, signing.BadSignature):
        return None
    next_vote_at = voter_next_vote_at(nominee=nominee, voter_key=voter_key(request), now=now)
    if outcome is Outcome.CONFIRM and next_vote_at is not None:
        # Asked to confirm, but this voter has voted meanwhile (another tab): the page's
        # "You've voted" and its countdown say all there is to say.
        return None
    return VoteResult(outcome, next_vote_at=next_vote_at, reasons=reasons)


def nominee_page_context(request: HttpRequest, nominee: Nominee, now: datetime) -> dict:
    public = public_standing(nominee, now=now)
    return {
        **nominee_shared_context(request, nominee, now),
        # The vote box a visitor who may vote sees, with stand-ins (vote_box_fill).
        "standins": STANDINS,
        "pow_algorithm": POW_ALGORITHM,
        "visibility": public.visibility,
        # What the page, its share prompt and its link preview may say of the standing.
        "public": public,
    }


@require_safe
def share_image(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    """The nominee's 1200 x 630 link-preview image, named by a hash of what it shows."""
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    card = share_images.share_card(nominee, now=timezone.now())
    etag = f'"{card.key}"'
    return image_response(
        request, "png", etag, share_images.MAX_AGE, lambda: share_images.share_image_png(card)
    )


def vote(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        # Link previews and curious clicks land on the page; only a POST ever votes.
        return redirect("nominee", award_slug=award_slug, nominee_slug=nominee_slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if _body_length(request) > MAX_VOTE_BODY:
        return render(request, "voting/too_large.html", status=413)
    nominee = nominee_for_voting(award_slug, nominee_slug)
    refused = voter_mint_refused(request)
    if refused is not None:
        # A browser without a cookie, from an address given too many this hour.
        request._laurel_retry_after = refused
        raise Ratelimited()
    now = timezone.now()
    ref = clean_ref(request.POST.get("ref"))
    result = vote_cast(
        nominee=nominee,
        voter=voter_from(request),
        now=now,
        token=request.POST.get("token"),
        proof=request.POST.get("altcha"),
        ref=ref,
    )
    vote_outcome_count(outcome=result.outcome)
    if result.outcome is Outcome.RATE_LIMITED:
        request._laurel_retry_after = result.retry_after
        raise Ratelimited()
    return render_vote_result(request, nominee, result, now, ref)


def render_vote_result(
    request: HttpRequest, nominee: Nominee, result: VoteResult, now: datetime, ref: str
) -> HttpResponse:
    status = OUTCOME_STATUS[result.outcome]
    if wants_json(request):
        payload = {
            "outcome": str(result.outcome),
            "counted": result.counted,
            "nominee": nominee.name,
            "next_vote_at": result.next_vote_at.isoformat() if result.next_vote_at else None,
        }
        if result.outcome in (Outcome.HELD, Outcome.NOT_OPEN, Outcome.CLOSED, Outcome.CONFIRM):
            # Rare answers carry their markup; the page has templates for the common ones.
            context = vote_box_context(request, nominee, now, result)
            payload["html"] = render_to_string("voting/_vote_box.html", context, request=request)
        return JsonResponse(payload, status=status)
    # Post/Redirect/Get: every outcome lands on the nominee's page, which shows it once.
    page = nominee.get_absolute_url()
    location = page
    if ref:
        location += "?" + urlencode({"ref": ref})  # a fresh form to confirm keeps the channel
    response = HttpResponseRedirect(location, status=303)
    # Integrity reasons stay on the server: only why a form must be confirmed is told.
    reasons = [r for r in result.reasons if r == TokenStatus.EXPIRED]
    outcome = {"n": nominee.pk, "o": str(result.outcome), "r": reasons}
    response.set_cookie(
        OUTCOME_COOKIE,
        signing.dumps(outcome, salt=OUTCOME_SALT),
        max_age=OUTCOME_SECONDS,
        path=page,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: a capped address answered with 429 and an explanation, nothing recorded."""
    retry_after = getattr(request, "_laurel_retry_after", None) or 3600
    context = {"retry_minutes": max(1, -(-retry_after // 60))}
    if wants_json(request):
        html = render_to_string("voting/_rate_limited.html", context, request=request)
        payload = {"outcome": "rate_limited", "counted": False, "html": html}
        response = JsonResponse(payload, status=429)
    else:
        response = render(request, "voting/rate_limited.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _body_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_VOTE_BODY + 1


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


def standings(request: HttpRequest, award_slug: str) -> HttpResponse:
    def build() -> tuple[HttpResponse, Award]:
        award = get_award_or_404(award_slug)
        return render(request, "voting/standings.html", standings_context(request, award)), award

    return page_cached(request, award_slug=award_slug, build=build)


def category_standings(request: HttpRequest, award_slug: str, category_slug: str) -> HttpResponse:
    def build() -> tuple[HttpResponse, Award]:
        category = get_category_or_404(award_slug, category_slug)
        context = standings_context(request, category.award, category)
        return render(request, "voting/standings.html", context), category.award

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
    return JsonResponse(payload, headers={"Access-Control-Allow-Origin": "*"}), award


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
        return JsonResponse(payload, headers={"Access-Control-Allow-Origin": "*"}), nominee.award
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
    return JsonResponse(payload, headers={"Access-Control-Allow-Origin": "*"}), nominee.award
