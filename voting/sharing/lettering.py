"""Text drawn into images in fonts that have every character of it.

No one font covers the names nominees carry ("Søren Wójcik", "李娜 Zhang", "محمد", "🎉"): each
character is drawn by the first bundled font that has it (voting/sharing/fonts/README.md), so a
line is a sequence of runs, one font each, measured and drawn one after the other on a common
baseline. Pillow's Raqm layout shapes each run and lays Arabic and Hebrew right to left.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent / "fonts"
Weight = Literal["regular", "bold"]
# In order of preference; the CJK and emoji fonts have one weight.
FACES: dict[str, tuple[str, ...]] = {
    "regular": (
        "NotoSans-Regular.ttf",
        "NotoSansArabic-Regular.ttf",
        "NotoSansHebrew-Regular.ttf",
        "NotoSansCJKsc-Regular-subset.otf",
        "NotoEmoji-Regular.ttf",
    ),
    "bold": (
        "NotoSans-Bold.ttf",
        "NotoSansArabic-Bold.ttf",
        "NotoSansHebrew-Bold.ttf",
        "NotoSansCJKsc-Regular-subset.otf",
        "NotoEmoji-Regular.ttf",
    ),
}
# Size at which glyphs are compared with the font's "missing" box.
PROBE_SIZE = 24
RTL = {"R", "AL"}


@dataclass(frozen=True)
class Run:
    text: str
    face: str  # a file name in FONTS


def font(face: str, size: int) -> ImageFont.FreeTypeFont:
    return _font(face, int(size))


@functools.lru_cache(maxsize=64)
def _font(face: str, size: int) -> ImageFont.FreeTypeFont:
    # Kept out of web workers' memory until used.
    from PIL import ImageFont

    return ImageFont.truetype(FONTS / face, size)


@functools.lru_cache(maxsize=4096)
def has_glyph(face: str, char: str) -> bool:
    """Whether `face` draws `char`, rather than its box for a character it lacks."""
    probe = font(face, PROBE_SIZE)
    missing = probe.getmask("\uffff")
    mask = probe.getmask(char)
    return (mask.size, bytes(mask)) != (missing.size, bytes(missing))


def face_for(char: str, weight: Weight = "regular") -> str | None:
    """The first face that has `char`, or None when none has it."""
    faces = FACES[weight]
    return next((face for face in faces if has_glyph(face, char)), None)


def runs(text: str, weight: Weight = "regular") -> list[Run]:
    """`text` cut where its font changes, in the order the runs are drawn left to right.

    Spaces, marks and joiners stay in the run they are in when its font has them; a character
    no font has is drawn by the first font (as its box) rather than dropped. A line whose first letter is Arabic
    or Hebrew is right to left: its runs are drawn last first.
    """
    text = unicodedata.normalize("NFC", text)
    found: list[list[str]] = []  # [face, characters]
    for char in text:
        category = unicodedata.category(char)
        joins = char.isspace() or category.startswith("M") or category in ("Cf", "Sk")
        if found and joins and has_glyph(found[-1][0], char):
            face = found[-1][0]
        else:
            face = face_for(char, weight) or FACES[weight][0]
        if found and face == found[-1][0]:
            found[-1][1] += char
        else:
            found.append([face, char])
    ordered = [Run(characters, face) for face, characters in found]
    if _right_to_left(text):
        ordered.reverse()
    return ordered


def _right_to_left(text: str) -> bool:
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in RTL:
            return True
        if direction == "L":
            return False
    return False


def text_length(text: str, size: int, weight: Weight = "regular") -> float:
    return sum(font(run.face, size).getlength(run.text) for run in runs(text, weight))


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    *,
    size: int,
    fill,
    weight: Weight = "regular",
    anchor: str = "ls",
) -> None:
    """Draw `text` with its left (l) or middle (m) at x, and its top (a), middle (m) or
    baseline (s) at y, as Pillow's anchors say, in as many fonts as it needs."""
    horizontal, vertical = anchor
    pieces = runs(text, weight)
    width = sum(font(run.face, size).getlength(run.text) for run in pieces)
    x, y = xy
    if horizontal == "m":
        x -= width / 2
    # The first font's metrics place the line, so that a name in any script sits where a
    # Latin one would.
    ascent, descent = font(FACES[weight][0], size).getmetrics()
    baseline = {"a": y + ascent, "m": y + (ascent - descent) / 2, "s": y}[vertical]
    for run in pieces:
        face = font(run.face, size)
        draw.text((x, baseline), run.text, font=face, fill=fill, anchor="ls")
        x += face.getlength(run.text)
