"""A nominee's share kit beyond the link: a badge for their own site, a QR code of the share link
for print and slides, and a daily reminder to vote that needs no email.

Badges say only what voting.standings.public.public_standing lets the public know, so that hidden
standings cannot leak through an image on someone else's site.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from django.template.loader import render_to_string

from awards.models import Nominee
from voting.ballot.services import scope_key
from voting.models import Ballot
from voting.sharing.lettering import draw_text, text_length
from voting.standings.public import public_standing

if TYPE_CHECKING:
    from PIL import Image

BADGE_WIDTH = 320
BADGE_HEIGHT = 100
# The PNG is drawn at twice the badge's size so that it stays sharp on high-density screens.
BADGE_PNG_SCALE = 2
# Bump when the badge's drawing changes, so that cached badges are not taken as current.
BADGE_DESIGN = "2"
BADGE_PADDING = 14

INK = "#1c1b1f"
MUTED = "#4a4852"
ACCENT = "#0b5d3b"
WHITE = "#ffffff"

QR_SCALE_PNG = 10
QR_BORDER = 4  # the quiet zone that QR readers need, in modules

REMINDER_ALARM = timedelta(minutes=10)
REMINDER_LENGTH = timedelta(minutes=10)
TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")


# --- Badges --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """What a badge shows, and nothing else: its ETag is made from these fields."""

    award: str
    nominee: str
    category: str
    headline: str  # "I'm nominated — vote for me", "Winner", "Finalist" or "Nominated"
    detail: str  # "#2 in Experts" where ranks are public, else the category alone

    @property
    def label(self) -> str:
        return f"{self.headline}: {self.nominee}, {self.detail}, {self.award}"

    def etag(self, kind: str) -> str:
        fields = "\x1f".join((BADGE_DESIGN, kind, *self.__dict__.values()))
        return '"' + hashlib.sha256(fields.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class BadgeLine:
    text: str
    x: int
    y: int  # the text's baseline
    size: int
    bold: bool
    fill: str


def badge_content(nominee: Nominee, *, now: datetime) -> Badge:
    award = nominee.award
    category = nominee.category.name
    standing = public_standing(nominee, now=now)
    if standing.result == "winner":
        headline = "Winner"
    elif standing.result == "finalist":
        headline = "Finalist"
    elif now < award.voting_closes:
        headline = "I'm nominated — vote for me"
    else:
        headline = "Nominated"
    if standing.ranked and standing.result != "winner":
        detail = f"#{standing.category_rank} in {category}"
    else:
        detail = category
    return Badge(award.name, nominee.name, category, headline, detail)


def badge_lines(badge: Badge) -> list[BadgeLine]:
    """The badge's text, cut to fit, where both the SVG and the PNG draw it."""
    left = BADGE_PADDING
    return [
        BadgeLine(_fit(badge.headline, 12, bold=True), left, 19, 12, True, WHITE),
        BadgeLine(_fit(badge.nominee, 20, bold=True), left, 53, 20, True, INK),
        BadgeLine(_fit(badge.detail, 14, bold=True), left, 73, 14, True, ACCENT),
        BadgeLine(_fit(badge.award, 11, bold=False), left, 90, 11, False, MUTED),
    ]


def badge_svg(badge: Badge, *, element_id: str = "laurel-badge") -> str:
    context = {
        "badge": badge,
        "lines": badge_lines(badge),
        "width": BADGE_WIDTH,
        "height": BADGE_HEIGHT,
        "id": element_id,
        "accent": ACCENT,
    }
    return render_to_string("voting/sharing/badge.svg", context)


def badge_png(badge: Badge) -> bytes:
    # Kept out of web workers' memory until used.
    from PIL import Image, ImageDraw

    scale = BADGE_PNG_SCALE
    image = Image.new("RGB", (BADGE_WIDTH * scale, BADGE_HEIGHT * scale), WHITE)
    draw = ImageDraw.Draw(image)
    box = (scale // 2, scale // 2, BADGE_WIDTH * scale - scale, BADGE_HEIGHT * scale - scale)
    draw.rounded_rectangle(box, radius=8 * scale, fill=WHITE, outline=ACCENT, width=2 * scale)
    draw.rounded_rectangle(
        (0, 0, BADGE_WIDTH * scale - 1, 28 * scale),
        radius=8 * scale,
        fill=ACCENT,
        corners=(True, True, False, False),
    )
    for line in badge_lines(badge):
        draw_text(
            draw,
            (line.x * scale, line.y * scale),
            line.text,
            size=line.size * scale,
            weight="bold" if line.bold else "regular",
            fill=line.fill,
            anchor="ls",
        )
    return _png_bytes(image)


def _fit(text: str, size: int, *, bold: bool) -> str:
    """`text`, cut with an ellipsis where it would overflow the badge.

    The PNG's own fonts measure it, as a stand-in for the reader's sans-serif in the SVG, with
    a little room to spare; the full text stays in the badge's accessible label.
    """
    room = BADGE_WIDTH - 2 * BADGE_PADDING
    weight = "bold" if bold else "regular"
    widen = 1.04
    if text_length(text, size, weight) * widen <= room:
        return text
    while text and text_length(text + "…", size, weight) * widen > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# --- QR codes ------------------------------------------------------------------------------


def qr_svg(url: str, *, size: int = 296) -> str:
    """An SVG QR code of `url`: one path of dark modules on a white square, the quiet zone
    included, so that it scans on dark slides and paper alike."""
    # Kept out of web workers' memory until used.
    import segno

    rows = list(segno.make(url, error="m", micro=False).matrix_iter(scale=1, border=QR_BORDER))
    modules = len(rows)
    runs = []
    for y, row in enumerate(rows):
        x = 0
        while x < modules:
            if row[x]:
                start = x
                while x < modules and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    title = escape(f"QR code: {url}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {modules} {modules}" role="img" aria-labelledby="qr-title" '
        f'shape-rendering="crispEdges"><title id="qr-title">{title}</title>'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_etag(url: str, kind: str) -> str:
    return '"' + hashlib.sha256(f"{kind}\x1f{url}".encode()).hexdigest()[:32] + '"'


def qr_png(url: str, *, scale: int = QR_SCALE_PNG) -> bytes:
    # Kept out of web workers' memory until used.
    import segno

    buffer = io.BytesIO()
    qr = segno.make(url, error="m", micro=False)
    qr.save(buffer, kind="png", scale=scale, border=QR_BORDER, dark="#000", light="#fff")
    return buffer.getvalue()


# --- Daily reminder ------------------------------------------------------------------------


class ReminderRefused(ValueError):
    """A reminder that cannot be made; the message says why, for the person who asked."""

    status = 400


class ReminderTooLate(ReminderRefused):
    status = 410


def reminder_time_parse(value: str) -> time:
    match = TIME_OF_DAY.match(value.strip())
    if not match:
        raise ReminderRefused(
            f"“{value[:20]}” is not a time of day; give it as HH:MM on a 24-hour clock, "
            "for example at=08:30."
        )
    return time(int(match.group(1)), int(match.group(2)))


def reminder_zone_parse(value: str) -> zoneinfo.ZoneInfo:
    if value not in _time_zones():
        raise ReminderRefused(
            f"“{value[:64]}” is not a known time zone; use a name such as Europe/London "
            "or America/Los_Angeles."
        )
    return zoneinfo.ZoneInfo(value)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# The reminder form's list: a city for every offset people live at. Any IANA name is accepted;
# the page adds the browser's own zone when it is not here (static/js/vote.js).
REMINDER_ZONES = (
    "Pacific/Honolulu America/Anchorage America/Los_Angeles America/Vancouver America/Tijuana "
    "America/Denver America/Phoenix America/Edmonton America/Chicago America/Mexico_City "
    "America/Winnipeg America/New_York America/Toronto America/Bogota America/Lima "
    "America/Halifax America/Caracas America/Santiago America/St_Johns America/Sao_Paulo "
    "America/Argentina/Buenos_Aires Atlantic/Azores Atlantic/Reykjavik Europe/London "
    "Europe/Dublin Europe/Lisbon Africa/Casablanca Africa/Lagos Europe/Paris Europe/Berlin "
    "Europe/Madrid Europe/Rome Europe/Amsterdam Europe/Stockholm Europe/Warsaw Africa/Cairo "
    "Africa/Johannesburg Europe/Athens Europe/Helsinki Europe/Kyiv Asia/Jerusalem "
    "Europe/Istanbul Europe/Moscow Asia/Riyadh Africa/Nairobi Asia/Tehran Asia/Dubai "
    "Asia/Kabul Asia/Karachi Asia/Kolkata Asia/Kathmandu Asia/Dhaka Asia/Yangon Asia/Bangkok "
    "Asia/Jakarta Asia/Ho_Chi_Minh Asia/Shanghai Asia/Hong_Kong Asia/Taipei Asia/Singapore "
    "Asia/Manila Australia/Perth Asia/Seoul Asia/Tokyo Australia/Adelaide Australia/Darwin "
    "Australia/Brisbane Australia/Sydney Pacific/Guam Pacific/Noumea Pacific/Auckland "
    "Pacific/Fiji Pacific/Tongatapu UTC"
).split()


@dataclass(frozen=True)
class ZoneChoice:
    name: str
    label: str  # "UTC-05:00 · New York", with a minus sign


def reminder_zone_choices(*, now: datetime, extra: str = "") -> list[ZoneChoice]:
    """The reminder form's time zones, by today's offset, with `extra` (the award's) among them."""
    names = set(REMINDER_ZONES)
    if extra in _time_zones():
        names.add(extra)
    choices = []
    for name in names:
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() or timedelta()
        minutes = int(offset.total_seconds()) // 60
        sign = "\N{MINUS SIGN}" if minutes < 0 else "+"
        hours, rest = divmod(abs(minutes), 60)
        city = name.rsplit("/", 1)[-1].replace("_", " ")
        choices.append((minutes, city, ZoneChoice(name, f"UTC{sign}{hours:02}:{rest:02} · {city}")))
    return [choice for _minutes, _city, choice in sorted(choices)]


def voter_last_vote_at(*, nominee: Nominee, voter_key: str) -> datetime | None:
    """When this voter last voted in the nominee's scope, from their ballot."""
    return (
        Ballot.objects.filter(
            award=nominee.award, voter_key=voter_key, scope_key=scope_key(nominee.award, nominee)
        )
        .values_list("last_vote_at", flat=True)
        .first()
    )


def reminder_first(
    *, nominee: Nominee, at: time, zone: zoneinfo.ZoneInfo, now: datetime
) -> datetime:
    """The first reminder: `at` in `zone` on the first day it is still ahead and voting is open."""
    award = nominee.award
    if now >= award.voting_closes:
        raise ReminderTooLate(
            f"Voting for the {award.name} has closed; there is nothing to remind."
        )
    earliest = max(now, award.voting_opens).astimezone(zone)
    first = datetime.combine(earliest.date(), at, tzinfo=zone)
    if first < earliest:
        first = datetime.combine(earliest.date() + timedelta(days=1), at, tzinfo=zone)
    if first >= award.voting_closes:
        closes = award.voting_closes.astimezone(zone)
        raise ReminderTooLate(
            f"Voting closes {closes:%b %-d at %H:%M} ({zone.key}), before the first reminder "
            f"at {at:%H:%M}."
        )
    return first


def reminder_ics(
    *, nominee: Nominee, at: time, zone: zoneinfo.ZoneInfo, vote_url: str, now: datetime
) -> bytes:
    """An iCalendar file with a daily event at `at` (in `zone`) until voting closes.

    The UID is the same for the same nominee, time and zone, so that adding the file twice
    updates the reminder instead of doubling it.
    """
    # Kept out of web workers' memory until used.
    from icalendar import Alarm, Calendar, Event

    award = nominee.award
    first = reminder_first(nominee=nominee, at=at, zone=zone, now=now)
    closes = award.local(award.voting_closes)
    domain = urlsplit(vote_url).hostname or "laurel"
    summary = f"Vote for {nominee.name}"
    description = (
        f"Vote for {nominee.name} in {nominee.category.name} at the {award.name}: {vote_url}\n"
        f"Voting closes {closes:%A, %B %-d, %Y at %H:%M} ({award.time_zone})."
    )

    event = Event()
    event.add("uid", f"vote-reminder-{nominee.pk}-{at:%H%M}-{zone.key}@{domain}")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", first)
    event.add("duration", REMINDER_LENGTH)
    # RFC 5545: with a zoned DTSTART, UNTIL is given in UTC.
    event.add("rrule", {"freq": "daily", "until": award.voting_closes.astimezone(UTC)})
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", vote_url)
    event.add("transp", "TRANSPARENT")  # a reminder, not a busy hour

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -REMINDER_ALARM)
    event.add_component(alarm)

    calendar = Calendar()
    calendar.add("prodid", "-//Laurel//Daily vote reminder//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", summary)
    calendar.add_component(event)
    # The zone's rules for the reminder's days only, not the default fifty years of them.
    calendar.add_missing_timezones(
        first_date=first.date() - timedelta(days=366), last_date=closes.date() + timedelta(days=366)
    )
    return calendar.to_ical()
