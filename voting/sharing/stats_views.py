"""The nominee's private toolkit, opened by the secret stats link an organizer sends from the
admin: their votes, and the badge, QR code and share texts to get more."""

import math
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_safe

from awards.lookups import get_nominee_or_404
from awards.stats_links import stats_token_valid
from voting.integrity.report import nominee_integrity, with_family_labels
from voting.sharing.stats import ChannelVotes, DayVotes, nominee_stats
from voting.sharing.toolkit import badge_alt, badge_embed_html, nominee_links, share_texts
from voting.standings.public import public_standing

# The charts' coordinate space; the SVG scales to the page, text with it.
CHART_WIDTH = 400
DAY_CHART_HEIGHT = 180
DAY_PLOT = {"left": 42, "right": 396, "top": 12, "bottom": 154}
CHANNEL_ROW = 30
CHANNEL_LABEL_WIDTH = 112
# Room after the longest bar for its number.
CHANNEL_VALUE_ROOM = 52


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@require_safe
def toolkit(request: HttpRequest, award_slug: str, nominee_slug: str, token: str) -> HttpResponse:
    nominee = get_nominee_or_404(award_slug, nominee_slug)
    if not stats_token_valid(nominee=nominee, token=token):
        # Never 403: a refusal would confirm that the nominee has a toolkit to guess at.
        context = {"award": nominee.award}
        return private(render(request, "voting/sharing/toolkit_refused.html", context, status=404))
    now = timezone.now()
    stats = nominee_stats(nominee=nominee, now=now)
    # Ranks compare the nominee with the others: shown only when the award shows them.
    standing = public_standing(nominee, now=now)
    links = nominee_links(nominee=nominee, absolute=request.build_absolute_uri)
    # Why votes were held or voided, by kind, once voting has closed: during voting it would
    # tell a nominee's helpers which of their methods were caught.
    integrity = None
    if now >= nominee.award.voting_closes:
        integrity = with_family_labels(nominee_integrity(nominee.pk))
    context = {
        "integrity": integrity,
        "award": nominee.award,
        "nominee": nominee,
        "now": now,
        "stats": stats,
        "standing": standing,
        "links": links,
        "badge_alt": badge_alt(nominee),
        "badge_html": badge_embed_html(nominee=nominee, links=links),
        "share_texts": share_texts(
            nominee=nominee, vote_url=links.vote_url, public=standing, now=now
        ),
        "day_chart": day_chart(stats.days),
        "channel_chart": channel_chart(stats.channels),
    }
    return private(render(request, "voting/sharing/nominee_toolkit.html", context))


def private(response: HttpResponse) -> HttpResponse:
    # The token is the page's only lock: keep it out of shared caches, Referer headers and
    # search engines, whether the link worked or not.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def nice_ceiling(value: int) -> int:
    """A round, even top for an axis, at least `value` and close to it (8, 12, 30, 160, 3000),
    so that the middle gridline is a whole number too."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for tenths in (10, 12, 16, 20, 30, 40, 50, 60, 80):
        top, rest = divmod(tenths * magnitude, 10)
        if not rest and top >= value and top % 2 == 0:
            return top
    return 10 * magnitude


def day_chart(days: list[DayVotes]) -> dict | None:
    """Bars for each day's counted votes, with the axis labels that fit."""
    if not days:
        return None
    left, right, top, bottom = (DAY_PLOT[k] for k in ("left", "right", "top", "bottom"))
    peak = nice_ceiling(max(d.counted for d in days))
    slot = (right - left) / len(days)
    width = max(slot * 0.7, 1)
    bars = []
    for i, d in enumerate(days):
        height = (bottom - top) * d.counted / peak
        if d.counted:
            height = max(height, 1)
        x = left + i * slot + (slot - width) / 2
        label = f"{date_format(d.day, 'D j M')}: {d.counted} vote{'' if d.counted == 1 else 's'}"
        bars.append(Bar(_r(x), _r(bottom - height), _r(width), _r(height), d.counted, label))
    # A label every few days, as many as fit side by side ("12 Jun" is about 40 units wide).
    step = max(1, math.ceil(len(days) * 46 / (right - left)))
    labels = [
        Tick(_r(left + i * slot + slot / 2), DAY_CHART_HEIGHT - 8, date_format(d.day, "j M"))
        for i, d in enumerate(days)
        if i % step == 0
    ]
    middle = (top + bottom) / 2
    grid = [Tick(left, top, str(peak))]
    if peak > 1:
        grid.append(Tick(left, _r(middle), str(peak // 2)))
    return {
        "bars": bars,
        "labels": labels,
        "grid": grid,
        "baseline": bottom,
        "left": left,
        "right": right,
        "width": CHART_WIDTH,
        "height": DAY_CHART_HEIGHT,
        "first": days[0].day,
        "last": days[-1].day,
        "best": max(days, key=lambda d: d.counted),
    }


def channel_chart(channels: list[ChannelVotes]) -> dict | None:
    """One horizontal bar per channel, longest first, labelled with its name and count."""
    if not channels:
        return None
    most = max(c.counted for c in channels)
    room = CHART_WIDTH - CHANNEL_LABEL_WIDTH - CHANNEL_VALUE_ROOM
    rows = []
    for i, channel in enumerate(channels):
        length = max(room * channel.counted / most, 1)
        y = i * CHANNEL_ROW
        rows.append(
            {
                "channel": channel,
                "y": y + 6,
                "height": CHANNEL_ROW - 12,
                "width": _r(length),
                "text_y": y + CHANNEL_ROW / 2 + 4,
                "value_x": _r(CHANNEL_LABEL_WIDTH + length + 6),
            }
        )
    return {
        "rows": rows,
        "width": CHART_WIDTH,
        "height": len(channels) * CHANNEL_ROW,
        "bar_x": CHANNEL_LABEL_WIDTH,
        "label_x": CHANNEL_LABEL_WIDTH - 8,
    }


def _r(value: float) -> float:
    return round(value, 1)
