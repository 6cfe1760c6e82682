"""Every name is drawn whole: the share image and the PNG badge draw each character of a name,
in any script, with a font that has it, never as a box, a "?" or a dropped accent."""

import io
import unicodedata
from unittest import mock

import pytest
from PIL import Image, ImageDraw

from voting.sharing.images import ShareCard, share_image_render
from voting.sharing.lettering import runs
from voting.sharing.share import Badge, badge_png

NAMES = [
    "Søren Wójcik",  # Latin with diacritics
    "Rafał Łukasiewicz",
    "Zoë Ñúñez-Dvořák",
    "Ελένη Παπαδοπούλου",  # Greek
    "Анастасия Кузнецова",  # Cyrillic
    "محمد الأحمد",  # Arabic
    "נועה כהן",  # Hebrew
    "李娜 Zhang",  # Chinese
    "田中 さくら",  # Japanese
    "김민준",  # Korean
    "Ana 🎉 Reyes 👍🏽",  # emoji
]


def missing(text: str, font) -> list[str]:
    """The characters of `text` that `font` would draw as its box for a character it lacks."""
    box = font.getmask("\uffff")
    absent = []
    for char in text:
        if char.isspace() or unicodedata.category(char).startswith(("M", "Cf", "Sk")):
            continue
        mask = font.getmask(char)
        if (mask.size, bytes(mask)) == (box.size, bytes(box)):
            absent.append(char)
    return absent


@pytest.fixture
def drawn():
    """Every (text, font) Pillow is asked to draw, checked for characters the font lacks."""
    calls: list[tuple[str, object]] = []
    draw_text = ImageDraw.ImageDraw.text

    def spy(self, xy, text, *args, **kwargs):
        calls.append((text, kwargs.get("font")))
        return draw_text(self, xy, text, *args, **kwargs)

    with mock.patch.object(ImageDraw.ImageDraw, "text", spy):
        yield calls


@pytest.mark.parametrize("name", NAMES)
def test_every_character_of_a_name_in_the_share_image_has_its_glyph(name, drawn):
    card = ShareCard(
        name=name,
        initials=name[0],
        category="Experts",
        award="2012 Small Business Influencer Awards",
        rank="#2 in Experts",
        call="Vote now: one click, no sign-up",
        photo="",
        photo_size=0,
    )
    Image.open(io.BytesIO(share_image_render(card))).verify()
    shown = "".join(text for text, _font in drawn)
    assert all(char in shown for char in name if not char.isspace()), shown
    for text, font in drawn:
        assert not missing(text, font), (text, font.path)


@pytest.mark.parametrize("name", NAMES)
def test_every_character_of_a_name_on_the_png_badge_has_its_glyph(name, drawn):
    badge = Badge("SBIA 2012", name, "Experts", "I'm nominated — vote for me", "#2 in Experts")
    Image.open(io.BytesIO(badge_png(badge))).verify()
    shown = "".join(text for text, _font in drawn)
    assert name in shown, shown  # no "?", no accent dropped
    for text, font in drawn:
        assert not missing(text, font), (text, font.path)


def test_a_name_mixing_scripts_is_drawn_in_one_run_per_font():
    pieces = runs("李娜 Zhang")
    assert [run.text for run in pieces] == ["李娜", " Zhang"]
    assert pieces[0].face != pieces[1].face


def test_a_right_to_left_name_is_laid_out_right_to_left():
    pieces = runs("محمد Ali")
    assert [run.text.strip() for run in pieces] == ["Ali", "محمد"]
