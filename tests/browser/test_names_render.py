"""Names in Chinese, Japanese and Korean are drawn, not boxes, on a browser that has no font of
its own for them (as this machine's Chromium has none): pages bring the fallback of fonts.css."""

import re

import pytest
from playwright.sync_api import expect

from awards.slugs import name_slug
from tests.factories import NomineeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NAMES = ["李娜", "김민준", "佐藤花子"]

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


def first_look(browser, url: str) -> tuple[bytes, bytes]:
    """The name's heading and its vote button, as a visitor's first page draws them."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    page.goto(url)
    page.evaluate(FONTS_IN_USE)
    page.wait_for_timeout(300)
    drawn = page.locator("h1").screenshot(), page.locator("form button").first.screenshot()
    context.close()
    return drawn


def test_a_shared_link_to_a_chinese_name_draws_the_name_on_the_first_page(
    browser, live_server, static_by_finders, experts
):
    # Boxes look alike whatever the character: 李娜 and 娜李 drawn the same would be boxes.
    li_na = NomineeFactory(category=experts, name="李娜", slug="li-na")
    na_li = NomineeFactory(category=experts, name="娜李", slug="na-li")
    heading, button = first_look(browser, live_server.url + li_na.get_absolute_url())
    other_heading, other_button = first_look(browser, live_server.url + na_li.get_absolute_url())
    assert heading != other_heading, "the heading draws 李娜 as boxes"
    assert button != other_button, "the vote button draws 李娜 as boxes"
