import re
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
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
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_safe
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from awards.lookups import get_nominee_or_404, nominee_for_voting
from awards.models import Award, Nominee
from laurel.lib.errors import csrf_failure
from laurel.lib.net import client_networks
from laurel.lib.responses import error_json, wants_json
from voting.ballot.pow import ALGORITHM as POW_ALGORITHM
from voting.ballot.pow import challenge_issue
from voting.ballot.services import VoteResult, Waiting, vote_cast, voter_next_vote_at, voter_waiting
from voting.ballot.tokens import TokenStatus, token_check, token_issue, token_lifetime
from voting.ballot.voters import voter_from, voter_known
from voting.integrity.assess import pow_difficulty
from voting.metrics.counters import vote_outcome_count
from voting.standings.pages import page_cached
from voting.standings.public import public_standing
from voting.standings.services import standings_visibility
from voting.vocabulary import Outcome

# Where the nominee page's cached body takes each request's vote box (voting/nominee.html).
VOTE_BOX = b"<!--laurel:vote-box-->"
# A vote form is a one-time token, its browser check and a channel name; anything much larger
# is not a vote.
MAX_VOTE_BODY = 4096
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


class VoteRateLimited(Ratelimited):
    """A vote refused for its address's pace: `retry_after` seconds until it may vote again."""

    def __init__(self, retry_after: int | None):
        super().__init__()
        self.retry_after = retry_after


def clean_ref(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if REF_PATTERN.match(value) else ""


def _posted(request: HttpRequest, name: str) -> str | None:
    # A page view never parses a body it has not got.
    return request.POST.get(name) if request.method == "POST" else None


def vote_box_context(
    request: HttpRequest, nominee: Nominee, now: datetime, result: VoteResult | None
) -> dict:
    voter = request.voter  # the browser's cookie, or a new one
    refused = voter.mint_refused
    waiting = Waiting()
    if result is not None:
        waiting = Waiting(result.next_vote_at)
    elif not voter.new and refused is None:
        # A browser seen for the first time has no ballot to look up.
        waiting = voter_waiting(nominee=nominee, voter_key=voter.key, now=now)
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
        voter_key=request.voter.key, nominee_id=nominee.pk, now=now, confirm=confirm
    )
    return {"vote_token": token.value}


def challenge_key(group: str, request: HttpRequest) -> str:
    return client_networks(request).address


@never_cache
@require_safe
@ratelimit(key=challenge_key, rate=CHALLENGE_RATE, block=True)
def vote_challenge(request: HttpRequest, award_slug: str, nominee_slug: str) -> JsonResponse:
    """The browser check for one rendered Vote button (its token), at the current price."""
    nominee = nominee_for_voting(award_slug, nominee_slug)
    if not voter_known(request):
        # Only a page gives a browser its voter key: this endpoint never mints one.
        return error_json(request, 400, "Reload the page to vote.")
    voter = voter_from(request)
    now = timezone.now()
    checked = token_check(
        value=request.GET.get("token"), voter_key=voter.key, nominee_id=nominee.pk, now=now
    )
    if not checked.ok:
        # The widget gives up and the vote goes without the check, to be asked to confirm.
        return error_json(request, 400, "Reload the page to vote.")
    difficulty = pow_difficulty(award=nominee.award, nominee=nominee, voter=voter, now=now)
    expires_at = checked.issued_at + token_lifetime()
    challenge = challenge_issue(
        token_nonce=checked.nonce, difficulty=difficulty, expires_at=expires_at
    )
    return JsonResponse(challenge)


def nominee(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    """The nominee's page, which is also the link nominees share: it shows the Vote button.

    Everything but the vote box is the same for every visitor and comes from the cache
    (voting/standings/pages.py); the box, this voter's own, is rendered for each request.
    """

    # The suggestions of where to vote next, shared by the page and the box (share_sheet.py).
    next_steps_memo: dict = {}

    def build() -> tuple[HttpResponse, Award]:
        nominee = get_nominee_or_404(award_slug, nominee_slug)
        context = nominee_page_context(request, nominee, timezone.now())
        context["next_steps_memo"] = next_steps_memo
        response = render(request, "voting/ballot/nominee.html", context)
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
        before, _, after = page.partition(VOTE_BOX)
        return before + vote_box_render(request, nominee, next_steps_memo) + after

    response = page_cached(request, award_slug=award_slug, build=build, fill=fill)
    if OUTCOME_COOKIE in request.COOKIES:
        response.delete_cookie(OUTCOME_COOKIE, path=request.path, samesite="Lax")
    return response


def vote_box_render(request: HttpRequest, nominee: Nominee, next_steps_memo: dict) -> bytes:
    """This voter's vote box: their form, or what they are waiting for, or how their vote went."""
    now = timezone.now()
    context = vote_box_context(request, nominee, now, outcome_shown_once(request, nominee, now))
    context["next_steps_memo"] = next_steps_memo
    if context["next_vote_at"] is not None or context["result"] is not None:
        context["visibility"] = standings_visibility(nominee.award, now)
    return render_to_string("voting/ballot/_vote_box.html", context, request=request).encode()


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
    next_vote_at = voter_next_vote_at(nominee=nominee, voter_key=request.voter.key, now=now)
    if outcome is Outcome.CONFIRM and next_vote_at is not None:
        # Asked to confirm, but this voter has voted meanwhile (another tab): the page's
        # "You've voted" and its countdown say all there is to say.
        return None
    return VoteResult(outcome, next_vote_at=next_vote_at, reasons=reasons)


def nominee_page_context(request: HttpRequest, nominee: Nominee, now: datetime) -> dict:
    public = public_standing(nominee, now=now)
    return {
        **nominee_shared_context(request, nominee, now),
        "pow_algorithm": POW_ALGORITHM,
        "visibility": public.visibility,
        # What the page, its share prompt and its link preview may say of the standing.
        "public": public,
    }


@csrf_exempt  # the one-time vote token is the form's synchronizer token (voting/ballot/tokens.py)
def vote(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        # Link previews and curious clicks land on the page; only a POST ever votes.
        return redirect("nominee", award_slug=award_slug, nominee_slug=nominee_slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if _body_length(request) > MAX_VOTE_BODY:
        return render(request, "voting/ballot/too_large.html", status=413)
    if not from_this_site(request):
        return csrf_failure(request, "the vote was sent from another site")
    if not request.POST.get("token"):
        # Not a vote form of Laurel's: Django's CSRF protection, as for every other form.
        return _vote_without_token(request, award_slug, nominee_slug)
    return _vote(request, award_slug, nominee_slug)


def _vote(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    nominee = nominee_for_voting(award_slug, nominee_slug)
    if request.voter.mint_refused is not None:
        # A browser without a cookie, from an address given too many this hour.
        raise VoteRateLimited(request.voter.mint_refused)
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
        raise VoteRateLimited(result.retry_after)
    return render_vote_result(request, nominee, result, now, ref)


_vote_without_token = csrf_protect(_vote)


def from_this_site(request: HttpRequest) -> bool:
    """Whether the browser says a page of this site sent the request.

    Browsers name the sender of every POST in Origin (and in Sec-Fetch-Site); one that names
    neither is an old browser, or a script, which the one-time token stops anyway. Over HTTPS a
    Referer from elsewhere is refused too, as Django's CSRF check does.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        here = f"{request.scheme}://{request.get_host()}"
        return origin == here or origin in settings.CSRF_TRUSTED_ORIGINS
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    referer = request.headers.get("Referer")
    if referer and request.is_secure():
        return url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=True)
    return True


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
            payload["html"] = render_to_string(
                "voting/ballot/_vote_box.html", context, request=request
            )
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
    retry_after = getattr(exception, "retry_after", None) or 3600
    context = {"retry_minutes": max(1, -(-retry_after // 60))}
    if wants_json(request):
        html = render_to_string("voting/ballot/_rate_limited.html", context, request=request)
        payload = {"outcome": "rate_limited", "counted": False, "html": html}
        response = JsonResponse(payload, status=429)
    else:
        response = render(request, "voting/ballot/rate_limited.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _body_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_VOTE_BODY + 1
