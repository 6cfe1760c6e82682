"""fonts.css, made by scripts/build-web-fonts: consecutive slices of the bundled CJK font, each
served, covering the characters of names in Chinese, Japanese and Korean."""

import itertools
import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_every_slice_of_the_cjk_fallback_is_served_and_names_are_covered():
    css = Path(finders.find("css/fonts.css")).read_text()
    slices = re.findall(
        r'url\("\.\./fonts/cjk/([^"]+)"\)[^;]*; unicode-range: U\+(\w+)-(\w+);', css
    )
    assert len(slices) > 50
    spans = [(int(first, 16), int(last, 16)) for _name, first, last in slices]
    assert spans == sorted(spans)
    assert all(last < next_first for (_, last), (next_first, _) in itertools.pairwise(spans))
    for name, *_ in slices:
        assert finders.find(f"fonts/cjk/{name}"), name
    for char in "李娜王芳陈美玲김민준佐藤花子、。「」ー":
        assert any(first <= ord(char) <= last for first, last in spans), char


def test_public_and_admin_pages_bring_the_fallback(client, admin_client, nominee):
    assert static("css/fonts.css") in client.get(nominee.get_absolute_url()).text
    admin = admin_client.get("/admin/awards/nominee/").text
    assert static("css/fonts.css") in admin
    assert static("css/admin-fonts.css") in admin
