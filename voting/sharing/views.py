"""Badges, QR codes, link-preview images and daily reminders for a nominee: the files behind
the nominee's private toolkit and the voter's reminder. The work is in voting/sharing/share.py
and voting/sharing/images.py."""

import math
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from awards.lookups import get_nominee_or_404
from awards.models import Nominee
from voting.ballot.voters import voter_cookie_read
from voting.sharing import images as share_images
from voting.sharing import share

IMAGE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
# A QR code changes only when the nominee's link does.
QR_MAX_AGE = 24 * 60 * 60


@require_safe
def badge(request: HttpRequest, award_slug: str, nominee_slug: str, kind: str) -> HttpResponse:
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    content = share.badge_content(nominee, now=timezone.now())
    draw = share.badge_svg if kind == "svg" else share.badge_png
    # Browsers and CDNs ask again no sooner than the standings can have changed.
    max_age = max(5, math.ceil(settings.STANDINGS_REFRESH_SECONDS))
    return image_response(request, kind, content.etag(kind), max_age, lambda: draw(content))


@require_safe
def qr_code(request: HttpRequest, award_slug: str, nominee_slug: str, kind: str) -> HttpResponse:
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    url = request.build_absolute_uri(nominee.get_absolute_url()) + "?ref=qr"
    draw = share.qr_svg if kind == "svg" else share.qr_png
    etag = share.qr_etag(url, kind)
    return image_response(request, kind, etag, QR_MAX_AGE, lambda: draw(url))


def image_response(
    request: HttpRequest, kind: str, etag: str, max_age: int, draw: Callable[[], str | bytes]
) -> HttpResponse:
    """An image other sites may embed, drawn only when the browser's copy is out of date."""
    response = HttpResponse(content_type=IMAGE_TYPES[kind])
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    # Embedding on nominees' own sites is the point: no cross-origin blocking. An SVG opened
    # directly may still run nothing and load nothing.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    if kind == "svg":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    conditional = get_conditional_response(request, etag=etag, response=response)
    if conditional is not response:  # 304 Not Modified (or 412 for a failed If-Match)
        for header in ("Cross-Origin-Resource-Policy", "Access-Control-Allow-Origin"):
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
    """The nominee's 1200 x 630 link-preview image, named by a hash of what it shows."""
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    card = share_images.share_card(nominee, now=timezone.now())
    etag = f'"{card.key}"'
    return image_response(
        request, "png", etag, share_images.MAX_AGE, lambda: share_images.share_image_png(card)
    )
