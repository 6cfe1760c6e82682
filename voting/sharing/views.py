"""Badges, QR codes, link-preview images and daily reminders for a nominee: the files behind
the nominee's private toolkit and the voter's reminder. The work is in voting/sharing/share.py
and voting/sharing/images.py."""

from collections.abc import Callable
from datetime import datetime
from functools import partial

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from awards.lookups import get_nominee_or_404
from awards.models import Nominee
from laurel.lib.responses import immutable_cache_control, shared_cache_control
from voting.ballot.voters import voter_cookie_read
from voting.sharing import images as share_images
from voting.sharing import share

IMAGE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
# A QR code is drawn from its own URL's nominee link, which never changes under that URL (a new
# slug is a new URL); a day rather than a year, so that a removed nominee's code goes too.
QR_SECONDS = 24 * 60 * 60


@require_safe
def badge(request: HttpRequest, award_slug: str, nominee_slug: str, kind: str) -> HttpResponse:
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    content = share.badge_content(nominee, now=timezone.now())
    draw = share.badge_svg if kind == "svg" else share.badge_png
    # Every reader of every post that embeds the badge asks for it: the proxy or CDN answers
    # for Laurel between standings refreshes, and browsers revalidate by ETag.
    cache = partial(shared_cache_control, browser_seconds=0)
    return image_response(request, kind, content.etag(kind), cache, lambda: draw(content))


@require_safe
def qr_code(request: HttpRequest, award_slug: str, nominee_slug: str, kind: str) -> HttpResponse:
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    url = request.build_absolute_uri(nominee.get_absolute_url()) + "?ref=qr"
    draw = share.qr_svg if kind == "svg" else share.qr_png
    etag = share.qr_etag(url, kind)
    cache = partial(immutable_cache_control, seconds=QR_SECONDS)
    return image_response(request, kind, etag, cache, lambda: draw(url))


def image_response(
    request: HttpRequest,
    kind: str,
    etag: str,
    cache: Callable[[HttpResponse], None],
    draw: Callable[[], str | bytes],
) -> HttpResponse:
    """An image other sites may embed, drawn only when the browser's copy is out of date. It is
    the same whoever asks, cookies or not: `cache` says how long anyone may keep it."""
    response = HttpResponse(content_type=IMAGE_TYPES[kind])
    response["ETag"] = etag
    cache(response)
    # Embedding on nominees' own sites is the point: no cross-origin blocking. An SVG opened
    # directly may still run nothing and load nothing.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    if kind == "svg":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    conditional = get_conditional_response(request, etag=etag, response=response)
    if conditional is not response:  # 304 Not Modified (or 412 for a failed If-Match)
        for header in (
            "Cache-Control",
            "Cross-Origin-Resource-Policy",
            "Access-Control-Allow-Origin",
        ):
            conditional[header] = response[header]
        return conditional
    response.content = draw()
    return response


@never_cache
@require_safe
def reminder(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    """A daily reminder as an .ics file: at `at` (HH:MM) in the award's zone or `tz`, else at the
    time of day the voter last voted for this nominee, else now."""
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    now = timezone.now()
    try:
        zone = share.reminder_zone_parse(request.GET.get("tz") or nominee.award.time_zone)
        at_text = request.GET.get("at", "").strip()
        if at_text:
            at = share.reminder_time_parse(at_text)
        else:
            voted_at = _voted_at(request, nominee, now).astimezone(zone)
            at = voted_at.time().replace(second=0, microsecond=0)
        vote_url = request.build_absolute_uri(nominee.get_absolute_url()) + "?ref=reminder"
        ics = share.reminder_ics(nominee=nominee, at=at, zone=zone, vote_url=vote_url, now=now)
    except share.ReminderRefused as refused:
        context = {"award": nominee.award, "nominee": nominee, "message": str(refused)}
        return render(
            request, "voting/sharing/reminder_refused.html", context, status=refused.status
        )
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vote-for-{nominee.slug}.ics"'
    return response


def _voted_at(request: HttpRequest, nominee: Nominee, now: datetime) -> datetime:
    # Only a browser that already has a voter cookie can have voted; no cookie is minted here.
    if cookie := voter_cookie_read(request):
        voted = share.voter_last_vote_at(nominee=nominee, voter_key=cookie.key)
        if voted is not None:
            return voted
    return now


@require_safe
def share_image(request: HttpRequest, award_slug: str, nominee_slug: str) -> HttpResponse:
    """The nominee's 1200 x 630 link-preview image. Pages link it as ?v=<hash of what it shows>
    (voting/templatetags/link_previews.py): under that name it never changes. Asked without
    the current hash (an old preview's link), it is today's image, kept as briefly as a badge."""
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    card = share_images.share_card(nominee, now=timezone.now())
    etag = f'"{card.key}"'
    if request.GET.get("v") == card.version:
        cache = immutable_cache_control
    else:
        cache = shared_cache_control
    return image_response(request, "png", etag, cache, lambda: share_images.share_image_png(card))
