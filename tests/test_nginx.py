"""The shipped nginx configuration, run by a real nginx: photos served as pictures only, and no
secret from a URL in its access log."""

import os
import time
import urllib.error
import urllib.request

import pytest
from PIL import Image

from deploy.local_nginx import LocalNginx, nginx_binary

ADMIN_URL = "backstage/admin/"


@pytest.fixture
def nginx(tmp_path):
    """deploy/nginx as compose mounts it, in front of nothing: what never reaches Laurel."""
    if nginx_binary() is None:
        if os.environ.get("LAUREL_REQUIRE_TOOLS"):
            pytest.fail("nginx is required here (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed")
    with LocalNginx(tmp_path, upstream="127.0.0.1:9", admin_url=ADMIN_URL) as server:
        (server.media / "nominees").mkdir()
        yield server.url, server.media, server.access_log


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_nginx_serves_stored_photos_as_pictures_that_run_nothing(nginx):
    url, media, _log = nginx
    Image.new("RGB", (4, 4), "red").save(media / "nominees" / "a1b2.jpg")
    (media / "nominees" / "old-p.html").write_bytes(b"GIF89a<script>alert(1)</script>")
    (media / "nominees" / "x.svg").write_bytes(b"<svg onload='alert(1)'/>")
    status, headers = get(f"{url}/media/nominees/a1b2.jpg")
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert get(f"{url}/media/nominees/old-p.html")[0] == 404
    assert get(f"{url}/media/nominees/x.svg")[0] == 404


def test_nginx_logs_where_requests_went_without_the_secrets_in_their_urls(nginx):
    url, _media, log = nginx
    get(f"{url}/sbia/ada/stats/eyJuIjoxfQ:PRIVATE-TOKEN/")
    get(f"{url}/sbia/ada/challenge/?token=1.ONE-TIME-TOKEN&x=1")
    time.sleep(0.2)
    text = log.read_text()
    assert "/sbia/ada/stats/.../" in text and "challenge/?token=...&x=1" in text
    assert "PRIVATE-TOKEN" not in text and "ONE-TIME-TOKEN" not in text


def post(url: str, size: int) -> int:
    request = urllib.request.Request(url, data=b"x" * size, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_only_the_import_pages_at_the_admins_path_take_a_large_upload(nginx):
    url, _media, _log = nginx
    big = 11 * 1024 * 1024
    # Past the size check, the request reaches the (absent) upstream: 502, not 413.
    assert post(f"{url}/{ADMIN_URL}awards/nominee/import/", big) == 502
    assert post(f"{url}/{ADMIN_URL}awards/nominee/process_import/", big) == 502
    for elsewhere in ("/x/awards/nominee/import/", "/sbia/ada/vote/", f"/{ADMIN_URL}"):
        assert post(url + elsewhere, big) == 413, elsewhere
