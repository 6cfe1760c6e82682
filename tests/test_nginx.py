"""The shipped nginx configuration, run by a real nginx: photos served as pictures only, and no
secret from a URL in its access log."""

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ADMIN_URL = "backstage/admin/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def nginx(tmp_path):
    """deploy/nginx as compose mounts it, with this machine's paths for the container's, in
    front of nothing: the media location never reaches Laurel."""
    if not Path(NGINX).exists():
        if os.environ.get("LAUREL_REQUIRE_TOOLS"):
            pytest.fail("nginx is required here (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed")
    conf, media = tmp_path / "laurel", tmp_path / "media"
    conf.mkdir()
    (media / "nominees").mkdir(parents=True)
    # What the nginx image does as it starts: the templates, filled in with ADMIN_URL.
    template = (ROOT / "deploy" / "nginx" / "templates" / "import.conf.template").read_text()
    (conf / "import.conf").write_text(
        template.replace("${ADMIN_URL}", ADMIN_URL).replace("/etc/nginx/laurel/", f"{conf}/")
    )
    for source in (ROOT / "deploy" / "nginx").glob("*.conf"):
        text = source.read_text().replace("/etc/nginx/laurel/", f"{conf}/")
        text = text.replace("/etc/nginx/generated/", f"{conf}/")
        text = text.replace("alias /app/media/;", f"alias {media}/;")
        # Docker's DNS and its `resolve` are the container's; here the upstream is a port.
        text = re.sub(r"resolver [^;]*;|zone laurel 64k;", "", text)
        text = re.sub(r"server web:8000 resolve;", "server 127.0.0.1:9;", text)
        (conf / source.name).write_text(text)
    port = free_port()
    (tmp_path / "nginx.conf").write_text(
        # As root (CI), workers would run as nobody, who cannot read pytest's private folders.
        ("user root;" if os.geteuid() == 0 else "")
        + f"""
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        events {{}}
        http {{
            include /etc/nginx/mime.types;
            include {conf}/upstream.conf;
            client_body_temp_path {tmp_path};
            proxy_temp_path {tmp_path};
            server {{
                listen 127.0.0.1:{port};
                access_log {tmp_path}/access.log laurel;
                include {conf}/locations.conf;
            }}
        }}
        """
    )
    subprocess.run([NGINX, "-c", str(tmp_path / "nginx.conf")], check=True)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", media, tmp_path / "access.log"
    finally:
        subprocess.run([NGINX, "-c", str(tmp_path / "nginx.conf"), "-s", "stop"], check=False)


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
