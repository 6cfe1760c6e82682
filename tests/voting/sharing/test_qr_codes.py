"""QR codes of a nominee's share link, for print and slides: they scan to the link with ?ref=qr."""

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from awards.stats_links import stats_path
from tests.ballots import vote_like_a_browser
from voting.models import Vote

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
SHARE_LINK = "http://testserver/sbia/ada-lovelace/?ref=qr"
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")


def decoded(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def raster_of_svg(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw the SVG's modules as a reader's camera would see them (its path is runs of dark
    modules, one row high, on a white square)."""
    root = ET.fromstring(svg)
    modules = int(root.get("viewBox").split()[2])
    image = Image.new("L", (modules * scale, modules * scale), 255)
    path = root.find(f"{SVG}path").get("d")
    assert RUN.sub("", path) == "", "the path holds only runs of modules"
    for x, y, length in ((int(x), int(y), int(n)) for x, y, n in RUN.findall(path)):
        image.paste(0, (x * scale, y * scale, (x + length) * scale, (y + 1) * scale))
    return image


def test_qr_png_scans_to_the_share_link(client, nominee):
    response = client.get("/sbia/ada-lovelace/qr.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert 200 <= image.size[0] == image.size[1] <= 1000
    assert decoded(image) == [SHARE_LINK]


def test_qr_svg_scans_to_the_share_link(client, nominee):
    response = client.get("/sbia/ada-lovelace/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.get("width") == root.get("height")
    assert root.get("viewBox")
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == f"QR code: {SHARE_LINK}"
    assert decoded(raster_of_svg(response.content)) == [SHARE_LINK]


def test_votes_from_the_qr_code_are_recorded_as_channel_qr(client, nominee):
    landing = client.get(SHARE_LINK)
    assert 'name="ref" value="qr"' in landing.text
    vote_like_a_browser(nominee, data={"ref": "qr"})
    assert Vote.objects.get().ref == "qr"


def test_qr_codes_are_cached_and_embeddable(client, nominee):
    response = client.get("/sbia/ada-lovelace/qr.svg")
    assert response["Cache-Control"] == "public, max-age=86400, immutable"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    again = client.get("/sbia/ada-lovelace/qr.svg", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    assert client.get("/sbia/ada-lovelace/qr.png")["ETag"] != response["ETag"]


def test_the_toolkit_links_the_qr_codes(client, nominee):
    page = client.get(stats_path(nominee)).text
    assert "QR code for print and slides" in page
    assert 'href="http://testserver/sbia/ada-lovelace/qr.svg"' in page
    assert 'href="http://testserver/sbia/ada-lovelace/qr.png"' in page


def test_qr_code_of_an_unknown_nominee_is_404(client, nominee):
    assert client.get("/sbia/nobody/qr.png").status_code == 404
