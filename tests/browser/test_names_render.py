"""Names in Chinese, Japanese and Korean are drawn, not boxes, on a browser that has no font of
its own for them (as this machine's Chromium has none): pages bring the fallback of fonts.css."""

import re

import pytest
from playwright.sync_api import expect

from awards.slugs import name_slug
from tests.factories import NomineeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NAMES = ["李娜", "김민준", "佐藤花子"]
# Private use: no font has them, so the browser draws its box for a missing character.
BOXES = "\ue000\ue001"

FONTS_IN_USE = """async () => {
  await document.fonts.ready;
  return [...document.fonts].filter(f => f.status === "loaded").map(f => f.family);
}"""


def test_names_in_cjk_are_drawn_with_the_fallback_fonts(live_server, phone, experts):
    for name in NAMES:
        NomineeFactory(category=experts, name=name, slug=name_slug(name))
    page = phone.new_page()
    page.goto(live_server.url + experts.get_absolute_url())
    for name in NAMES:
        expect(page.get_by_text(name, exact=True)).to_be_visible()
    families = page.evaluate(FONTS_IN_USE)
    # The system's own CJK font where it has one, else the slices holding these characters.
    assert any(re.fullmatch(r'"?Laurel CJK( local)?"?', family) for family in families), families

    heading = page.get_by_role("heading", level=1)
    page.goto(
        live_server.url + NomineeFactory(category=experts, name="李娜 Zhang").get_absolute_url()
    )
    page.evaluate(FONTS_IN_USE)
    drawn = heading.screenshot()
    heading.evaluate("(h, text) => { h.textContent = text + ' Zhang'; }", BOXES)
    page.evaluate(FONTS_IN_USE)
    boxed = heading.screenshot() == drawn
    assert not boxed, "李娜 is drawn as the boxes of missing characters"
