"""Share images: the 1200 x 630 picture a link preview shows for a nominee's page.

An image is drawn from a ShareCard, which holds everything the image shows and nothing else;
its hash names the image (the cache key and the ETag), so a changed rank, name or photo is a
new image, and an unchanged one is served from the cache or answered with 304.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import astuple, dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage

from awards.models import Nominee
from voting.sharing.lettering import FACES, Weight, draw_text, font, text_length
from voting.standings.public import PublicStanding, public_standing

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
# Change when the drawing changes, so that images of the old design stop being served.
DESIGN = 2
# Rendered images live in Django's default cache rather than as files under MEDIA_ROOT: the
# cache is shared by every web process (Redis in real mode, the database in embedded mode),
# and it forgets images of ranks long past by itself, where files would pile up with every
# rank change and need shared storage and a sweeper once there is more than one machine.
CACHE_SECONDS = 24 * 60 * 60
# How much of the card's hash names the image in pages' links (?v=): unique enough per nominee.
VERSION_LENGTH = 12

PAPER = (251, 250, 247)
INK = (28, 27, 31)
MUTED = (74, 72, 82)
ACCENT = (11, 93, 59)
WHITE = (255, 255, 255)
GOLD = (133, 90, 0)  # white on it: 5:1
# Initials' backgrounds, each with white text at 4.5:1 or more.
INITIALS_COLOURS = [(15, 118, 110), (29, 78, 216), (126, 34, 206), (159, 18, 57), (138, 59, 0)]

PANEL = 440  # the left band, holding the photo
PHOTO = 320  # the photo's diameter
TEXT_LEFT = PANEL + 56
TEXT_WIDTH = WIDTH - TEXT_LEFT - 56
REGULAR, BOLD = FACES["regular"][0], FACES["bold"][0]


@dataclass(frozen=True)
class ShareCard:
    """Everything one share image shows."""

    name: str
    initials: str
    category: str
    award: str
    # "#2 in Experts", "Winner · Experts", "Finalist · Experts"; "" when hidden or without votes.
    rank: str
    # A call to vote while voting is open, else "".
    call: str
    # The photo's file name and size in bytes, or "" and 0 without a (readable) photo.
    photo: str
    photo_size: int

    @property
    def key(self) -> str:
        data = json.dumps([DESIGN, *astuple(self)], ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()[:32]

    @property
    def version(self) -> str:
        return self.key[:VERSION_LENGTH]


def share_card(
    nominee: Nominee, *, now: datetime, standing: PublicStanding | None = None
) -> ShareCard:
    """The card for a nominee as the public may see it now; `standing` saves a query when the
    caller already has it."""
    standing = standing or public_standing(nominee, now=now)
    photo, photo_size = _photo_identity(nominee)
    award = nominee.award
    return ShareCard(
        name=nominee.name,
        initials=nominee.initials,
        category=nominee.category.name,
        award=award.name,
        rank=standing.label(nominee.category.name),
        call="Vote now: one click, no sign-up" if award.is_open(now) else "",
        photo=photo,
        photo_size=photo_size,
    )


def _photo_identity(nominee: Nominee) -> tuple[str, int]:
    if not nominee.photo:
        return "", 0
    try:
        return nominee.photo.name, nominee.photo.size
    except OSError:
        return "", 0  # the file is gone: draw initials rather than fail the preview


def share_image_png(card: ShareCard) -> bytes:
    """The card's PNG, from the cache or freshly drawn."""
    cache_key = f"share-image:{card.key}"
    png = cache.get(cache_key)
    if png is None:
        png = share_image_render(card)
        cache.set(cache_key, png, CACHE_SECONDS)
    return png


def share_image_render(card: ShareCard) -> bytes:
    # Kept out of web workers' memory until used.
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, PANEL, HEIGHT), fill=ACCENT)
    _draw_portrait(image, card)
    _draw_text(draw, card)
    out = io.BytesIO()
    # Speed over size: level 3 takes about half the default level's time for 10% more bytes.
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _draw_portrait(image: Image.Image, card: ShareCard) -> None:
    top_left = ((PANEL - PHOTO) // 2, (HEIGHT - PHOTO) // 2)
    x, y = top_left
    image.paste(WHITE, (x - 8, y - 8, x + PHOTO + 8, y + PHOTO + 8), _circle_mask(PHOTO + 16))
    portrait = _photo(card) or _initials(card)
    image.paste(portrait, top_left, _circle_mask(PHOTO))


def _photo(card: ShareCard) -> Image.Image | None:
    # Kept out of web workers' memory until used.
    from PIL import Image, ImageOps

    from awards.photos import PHOTO_MAX_PIXELS

    if not card.photo:
        return None
    try:
        with default_storage.open(card.photo) as file, Image.open(file) as photo:
            if photo.width * photo.height > PHOTO_MAX_PIXELS:
                # Photos stored before they were re-encoded may be any size: not decoded.
                raise ValueError(f"{photo.width} x {photo.height} pixels")
            # JPEG decodes at a fraction of its size when asked for a small result.
            photo.draft("RGB", (PHOTO * 2, PHOTO * 2))
            photo = ImageOps.exif_transpose(photo).convert("RGB")
            return ImageOps.fit(photo, (PHOTO, PHOTO), Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError):
        log.warning("share image: photo %s unreadable, drawing initials", card.photo)
        return None


def _initials(card: ShareCard) -> Image.Image:
    # Kept out of web workers' memory until used.
    from PIL import Image, ImageDraw

    # The colour follows the name alone, so it stays put as the rank changes.
    digest = hashlib.sha256(card.name.encode()).digest()
    colour = INITIALS_COLOURS[digest[0] % len(INITIALS_COLOURS)]
    tile = Image.new("RGB", (PHOTO, PHOTO), colour)
    draw = ImageDraw.Draw(tile)
    draw_text(
        draw,
        (PHOTO / 2, PHOTO / 2),
        card.initials,
        size=128,
        weight="bold",
        fill=WHITE,
        anchor="mm",
    )
    return tile


@lru_cache(maxsize=4)
def _circle_mask(size: int) -> Image.Image:
    # Kept out of web workers' memory until used.
    from PIL import Image, ImageDraw

    # Drawn at four times the size and scaled down, so the circle's edge is smooth.
    big = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def _draw_text(draw: ImageDraw.ImageDraw, card: ShareCard) -> None:
    y = 64
    award_lines, size = _fit(card.award, sizes=(32, 28, 24), max_lines=2)
    for line in award_lines:
        draw_text(draw, (TEXT_LEFT, y), line, size=size, fill=MUTED, anchor="la")
        y += int(size * 1.35)
    y += 28
    name_lines, size = _fit(card.name, sizes=(80, 68, 56, 46), max_lines=2, weight="bold")
    for line in name_lines:
        draw_text(draw, (TEXT_LEFT, y), line, size=size, weight="bold", fill=INK, anchor="la")
        y += int(size * 1.3)
    y += 12
    category_lines, size = _fit(f"Nominated in {card.category}", sizes=(36, 30), max_lines=1)
    draw_text(draw, (TEXT_LEFT, y), category_lines[0], size=size, fill=MUTED, anchor="la")
    y += int(size * 1.35) + 24
    if card.rank:
        _pill(draw, (TEXT_LEFT, y), card.rank)
    if card.call:
        draw_text(draw, (TEXT_LEFT, HEIGHT - 64), card.call, size=30, fill=ACCENT, anchor="ls")


def _pill(draw: ImageDraw.ImageDraw, at: tuple[int, int], text: str) -> None:
    lines, size = _fit(text, sizes=(44, 38, 32), max_lines=1, width=TEXT_WIDTH - 56, weight="bold")
    fill = GOLD if text.startswith(("Winner", "Finalist")) else ACCENT
    width = text_length(lines[0], size, "bold")
    ascent, descent = font(BOLD, size).getmetrics()
    x, y = at
    height = ascent + descent + 24
    draw.rounded_rectangle((x, y, x + width + 56, y + height), radius=height // 2, fill=fill)
    draw_text(draw, (x + 28, y + 12), lines[0], size=size, weight="bold", fill=WHITE, anchor="la")


def _fit(
    text: str,
    *,
    sizes: tuple[int, ...],
    max_lines: int,
    width: int = TEXT_WIDTH,
    weight: Weight = "regular",
) -> tuple[list[str], int]:
    """Wrap `text` at the largest size that fits in `max_lines`; at the smallest, cut what
    still overflows short with an ellipsis."""
    for size in sizes:
        lines = _wrap(text, size, width, weight)
        if len(lines) <= max_lines and all(text_length(li, size, weight) <= width for li in lines):
            return lines, size
    cut = len(lines) > max_lines
    lines = lines[:max_lines]
    for index, line in enumerate(lines):
        if (cut and index == len(lines) - 1) or text_length(line, size, weight) > width:
            while line and text_length(line + "…", size, weight) > width:
                line = line[:-1].rstrip()
            lines[index] = line + "…"
    return lines, size


def _wrap(text: str, size: int, width: int, weight: Weight) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and text_length(candidate, size, weight) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines or [""]


def site_card_render() -> bytes:
    """The preview image of pages that are not a nominee's: static/img/laurel-card.png, made
    once with `python -c "from voting.sharing.images import *; site_card_save()"`."""
    # Kept out of web workers' memory until used.
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), ACCENT)
    draw = ImageDraw.Draw(image)
    image.paste(WHITE, (96, 195, 336, 435), _circle_mask(240))
    draw.text(
        (216, 315),
        "L",
        font=font(BOLD, 150),
        fill=ACCENT,
        anchor="mm",
    )
    draw.text(
        (400, 250),
        "Laurel",
        font=font(BOLD, 110),
        fill=WHITE,
        anchor="ls",
    )
    draw.text(
        (404, 330),
        "Public voting for influencer awards",
        font=font(REGULAR, 44),
        fill=WHITE,
        anchor="ls",
    )
    draw.text(
        (404, 400),
        "One click · no account · no email",
        font=font(REGULAR, 36),
        fill=(205, 230, 215),
        anchor="ls",
    )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def site_card_save() -> None:
    path = settings.BASE_DIR / "static" / "img" / "laurel-card.png"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(site_card_render())
