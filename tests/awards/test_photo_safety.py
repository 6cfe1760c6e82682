"""Photos as an attacker would send them: a picture that is also a page, a bomb, a link that
redirects to ftp:, a host that answers a byte at a time, an address that hides another."""

import io
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from awards import fetch
from awards.fetch import FetchRefused, address_refused, fetch_bytes
from awards.models import Nominee
from awards.photos import PHOTO_SIDE, nominee_photo_fetch, photo_reencoded
from tests.awards.test_import import run, zip_of

pytestmark = pytest.mark.django_db
SCRIPT = b"<script>fetch('/admin/')</script>"


def polyglot() -> bytes:
    """A GIF that browsers would also run as a page: its pixels, then a script."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "GIF")
    return out.getvalue() + b"<html><body>" + SCRIPT + b"</body></html>"


def with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "green")
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def assert_only_a_picture(nominee: Nominee) -> None:
    assert nominee.photo.name.startswith("nominees/") and nominee.photo.name.endswith(".jpg")
    stored = default_storage.open(nominee.photo.name).read()
    assert stored[:2] == b"\xff\xd8" and b"<script" not in stored and b"<html" not in stored
    served = Client().get(nominee.photo.url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_picture_that_is_also_a_page_is_stored_as_a_jpeg_from_the_zip(award, experts):
    photos = zip_of({"p.html": polyglot()})
    from awards.imports import PhotoArchive

    _result, problems = run(
        award, "name,category,photo\nMallory,experts,p.html\n", photos=PhotoArchive(photos)
    )
    assert problems == []
    assert_only_a_picture(Nominee.objects.get(name="Mallory"))


@pytest.fixture
def site():
    """A web site on this machine whose answers each test writes: path -> (status, headers,
    body, seconds between bytes)."""
    pages: dict[str, tuple] = {}

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body, pause = pages.get(self.path, (404, {}, b"no", 0))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if not pause:
                    self.wfile.write(body)
                for byte in body if pause else b"":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(pause)
            except OSError:
                pass  # the fetch gave up

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()


@pytest.fixture
def local_site_allowed(settings):
    settings.PHOTO_FETCH_PRIVATE_ADDRESSES = True  # the stand-in public site is on this machine


def test_a_picture_that_is_also_a_page_is_stored_as_a_jpeg_from_a_link(
    nominee, site, local_site_allowed
):
    url, pages = site
    pages["/p.html"] = (200, {"Content-Type": "text/html"}, polyglot(), 0)
    assert nominee_photo_fetch(nominee_id=nominee.pk, url=f"{url}/p.html") is True
    nominee.refresh_from_db()
    assert_only_a_picture(nominee)


def test_only_pictures_are_served_from_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "nominees").mkdir()
    (tmp_path / "nominees" / "old-p.html").write_bytes(polyglot())
    (tmp_path / "nominees" / "old.svg").write_bytes(b"<svg onload='alert(1)'/>")
    assert Client().get("/media/nominees/old-p.html").status_code == 404
    assert Client().get("/media/nominees/old.svg").status_code == 404


def test_metadata_is_stripped_and_large_photos_are_scaled_down():
    photo = Image.open(io.BytesIO(photo_reencoded(with_gps())))
    assert not photo.getexif()
    big = io.BytesIO()
    Image.new("RGB", (3000, 2000), "blue").save(big, "PNG")
    assert max(Image.open(io.BytesIO(photo_reencoded(big.getvalue()))).size) == PHOTO_SIDE


def test_a_picture_declaring_more_pixels_than_a_photo_has_is_refused_undecoded():
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # 12 KB on disk, 100 Mpx decoded
    with pytest.raises(ValueError, match="too large"):
        photo_reencoded(bomb.getvalue())


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/p.png", "file:///etc/passwd"])
def test_a_redirect_to_another_scheme_is_not_followed(
    nominee, site, local_site_allowed, caplog, target
):
    url, pages = site
    pages["/p.png"] = (302, {"Location": target}, b"", 0)
    assert nominee_photo_fetch(nominee_id=nominee.pk, url=f"{url}/p.png") is False
    nominee.refresh_from_db()
    assert not nominee.photo
    assert re.search("redirect to another scheme|is not allowed", caplog.text)


def test_more_than_three_redirects_are_not_followed(site, local_site_allowed):
    url, pages = site
    for hop in range(5):
        pages[f"/{hop}"] = (302, {"Location": f"{url}/{hop + 1}"}, b"", 0)
    with pytest.raises(OSError, match="redirect"):
        fetch_bytes(f"{url}/0", max_bytes=1000, deadline_seconds=5, agent="t")


def test_a_host_sending_a_byte_at_a_time_is_given_up_on_at_the_deadline(site, local_site_allowed):
    url, pages = site
    pages["/slow.png"] = (200, {}, b"x" * 100, 0.2)
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="not received within 1 s"):
        fetch_bytes(f"{url}/slow.png", max_bytes=10_000, deadline_seconds=1, agent="t")
    assert time.monotonic() - started < 3


def test_a_body_larger_than_the_cap_is_refused(site, local_site_allowed):
    url, pages = site
    pages["/big.png"] = (200, {}, b"x" * 5000, 0)
    with pytest.raises(FetchRefused, match="larger than"):
        fetch_bytes(f"{url}/big.png", max_bytes=1000, deadline_seconds=5, agent="t")


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("64:ff9b::a00:7", True),  # NAT64 of 10.0.0.7
        ("64:ff9b:1::a9fe:a9fe", True),  # local-use NAT64 of 169.254.169.254
        ("2002:a00:7::1", True),  # 6to4 of 10.0.0.7
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", True),  # Teredo
        ("::ffff:10.0.0.7", True),  # IPv4-mapped
        ("169.254.169.254", True),  # cloud metadata
        ("fd00::1", True),
        ("2606:4700:4700::1111", False),
        ("93.184.215.14", False),
    ],
)
def test_addresses_that_hide_another_network_are_refused(address, refused):
    assert address_refused(address) is refused


def test_photo_links_are_fetched_on_their_own_queue_with_a_time_limit(settings):
    from awards.tasks import nominee_photo_fetch_task
    from laurel.celery import app

    route = app.amqp.router.route({}, nominee_photo_fetch_task.name)
    assert route["queue"].name == settings.CELERY_PHOTO_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    assert nominee_photo_fetch_task.soft_time_limit and nominee_photo_fetch_task.time_limit
    assert nominee_photo_fetch_task.soft_time_limit > fetch.READ_SECONDS


def test_a_share_image_never_decodes_an_old_photo_larger_than_the_limit(nominee, settings, caplog):
    from voting.sharing.images import ShareCard, share_image_render

    huge = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(huge, "PNG")  # stored before photos were re-encoded
    name = default_storage.save("nominees/old-huge.png", io.BytesIO(huge.getvalue()))
    card = ShareCard("Ada", "A", "Experts", "SBIA", "", "", name, len(huge.getvalue()))
    Image.open(io.BytesIO(share_image_render(card))).verify()  # drawn with initials instead
    assert "unreadable, drawing initials" in caplog.text
