"""docker-compose.yml runs real mode behind nginx; no engine (nor nginx) runs here, so the files'
shape is checked, and what nginx sends is played through Laurel's WSGI stack."""

import ipaddress
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client

from tests.ballots import vote_like_a_browser
from voting.models import Vote

ROOT = Path(__file__).resolve().parents[1]
NGINX = ROOT / "deploy" / "nginx"
DEFAULT = re.compile(r"^\$\{(?P<name>\w+):-(?P<default>[^}]*)\}(?P<rest>.*)$")


def default_of(value: str) -> str:
    """What a compose value `${VAR:-default}...` becomes when VAR is not set."""
    match = DEFAULT.match(value)
    assert match, f"{value!r} is not ${{VAR:-default}}"
    return match["default"] + match["rest"]


def directives(text: str, name: str) -> list[str]:
    """The arguments of every `name ...;` directive in an nginx file, comments dropped."""
    text = re.sub(r"#[^\n]*", "", text)
    return [m.strip() for m in re.findall(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", text)]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_nginx_postgres_redis_web_worker_and_one_beat(compose):
    services = compose["services"]
    assert {"nginx", "postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "beat" in services["beat"]["command"]
    assert "worker" in services["worker"]["command"]
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]


def test_only_nginx_is_published_so_every_request_passes_it(compose):
    services = compose["services"]
    assert [default_of(port) for port in services["nginx"]["ports"]] == ["80:80"]
    for name, service in services.items():
        if name != "nginx":
            assert "ports" not in service, f"{name} is reachable without the proxy"
    assert services["web"]["expose"] == ["8000"]


def test_laurel_trusts_nginx_and_nothing_else(compose):
    services = compose["services"]
    proxy = default_of(services["nginx"]["networks"]["default"]["ipv4_address"])
    subnet = default_of(compose["networks"]["default"]["ipam"]["config"][0]["subnet"])
    assert ipaddress.ip_address(proxy) in ipaddress.ip_network(subnet)
    for name in ("web", "worker", "beat", "migrate"):
        assert default_of(services[name]["environment"]["TRUSTED_PROXIES"]) == proxy


def test_gunicorn_listens_where_nginx_sends_and_leaves_access_logs_to_laurel():
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["worker_class"] == "gthread"
    assert conf["accesslog"] is None
    upstream = (NGINX / "upstream.conf").read_text()
    assert directives(upstream, "server") == ["web:8000 resolve"]
    assert "127.0.0.11" in directives(upstream, "resolver")[0]  # Docker's DNS, for --scale


def test_the_image_and_the_benchmarks_run_gunicorn_with_the_deployed_configuration():
    assert '"gunicorn", "-c", "deploy/gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()
    assert '"-c", "deploy/gunicorn.conf.py"' in (ROOT / "bench" / "stack.py").read_text()


def test_each_gunicorn_worker_tunes_malloc_as_it_starts():
    # In a process of its own: mallopt changes the process it runs in.
    script = (
        "import runpy, sys; conf = runpy.run_path(sys.argv[1]); "
        "print(conf['post_fork'](server=None, worker=None))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "deploy" / "gunicorn.conf.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "None" and not done.stderr


def test_nginx_forwards_the_client_address_the_way_laurel_reads_it():
    proxy = (NGINX / "proxy.conf").read_text()
    headers = dict(line.split(None, 1) for line in directives(proxy, "proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["Host"] == "$host"
    assert headers["X-Request-ID"] == "$request_id"
    assert directives(proxy, "proxy_pass") == ["http://laurel"]
    locations = (NGINX / "locations.conf").read_text()
    passed = re.findall(r"location\s+([^{]*)\{([^}]*)\}", locations)
    for where, block in passed:
        if "return" not in block and "alias" not in block:  # /media/ is served from disk
            assert directives(block, "include") in (
                ["/etc/nginx/laurel/proxy.conf"],
                ["/etc/nginx/laurel/cached.conf"],
            ), where
    cached = (NGINX / "cached.conf").read_text()
    assert directives(cached, "include") == ["/etc/nginx/laurel/proxy.conf"]


def test_nginx_serves_photos_from_the_media_volume_as_pictures_that_run_nothing(compose):
    locations = (NGINX / "locations.conf").read_text()
    media = locations.split("location ^~ /media/ {", 1)[1].split("\n}\n", 1)[0]
    assert directives(media, "alias") == ["/app/media/"]
    assert directives(media, "return") == ["404"]  # anything but a picture
    pictures = re.search(r"location ~\* (\S+) \{([^}]*)\}", media)
    assert re.search(pictures[1], "nominees/a1b2.jpg") and not re.search(pictures[1], "p.html")
    headers = directives(pictures[2], "add_header")
    assert "X-Content-Type-Options nosniff always" in headers
    assert "add_header Content-Security-Policy \"default-src 'none'; sandbox\" always;" in media
    services = compose["services"]
    assert "media:/app/media:ro" in services["nginx"]["volumes"]
    assert "media:/app/media" in services["photos"]["volumes"]
    assert services["photos"]["command"][4:6] == ["-Q", "photos"]
    assert services["worker"]["command"][4:6] == ["-Q", "laurel"]


def test_nginx_takes_a_large_photo_zip_at_the_admins_import_pages_only(compose):
    locations = (NGINX / "locations.conf").read_text()
    outside = re.sub(r"location[^{]*\{[^}]*\}", "", locations)
    assert directives(outside, "client_max_body_size") == ["10m"]
    assert "include /etc/nginx/generated/import.conf;" in locations
    template = (NGINX / "templates" / "import.conf.template").read_text()
    routes = re.findall(r"location\s+=\s+(\S+)\s*\{([^}]*)\}", template)
    assert [where for where, _ in routes] == [
        "/${ADMIN_URL}awards/nominee/import/",
        "/${ADMIN_URL}awards/nominee/process_import/",
    ]
    assert all(directives(block, "client_max_body_size") == ["512m"] for _, block in routes)
    nginx = compose["services"]["nginx"]
    assert nginx["environment"]["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx/generated"
    assert "./deploy/nginx/templates:/etc/nginx/templates:ro" in nginx["volumes"]
    assert nginx["environment"]["ADMIN_URL"] == compose["x-laurel"]["environment"]["ADMIN_URL"]


def test_nginx_does_not_route_metrics():
    locations = (NGINX / "locations.conf").read_text()
    block = re.search(r"location\s*=\s*/metrics\s*\{([^}]*)\}", locations)
    assert block, "no exact location for /metrics"
    assert directives(block[1], "return") == ["404"]
    assert "proxy_pass" not in block[1]


def test_both_server_configs_use_the_shared_upstream_and_locations():
    for name in ("laurel.conf", "laurel-tls.conf"):
        text = (NGINX / name).read_text()
        includes = directives(text, "include")
        assert "/etc/nginx/laurel/upstream.conf" in includes
        assert "/etc/nginx/laurel/locations.conf" in includes
    tls = (NGINX / "laurel-tls.conf").read_text()
    assert "443 ssl default_server" in directives(tls, "listen")
    assert directives(tls, "return") == ["301 https://$host$request_uri"]


def nginx_headers(client_ip: str, sent_forwarded_for: str = "") -> dict:
    """The WSGI environ nginx's proxy_set_header lines give gunicorn for one client."""
    values = {
        "$proxy_add_x_forwarded_for": ", ".join(filter(None, [sent_forwarded_for, client_ip])),
        "$scheme": "http",
        "$host": "localhost",
        "$request_id": "0f8fad5bd9cb469fa1657d2b6cbf2a8c",
    }
    proxy = (NGINX / "proxy.conf").read_text()
    environ = {}
    for line in directives(proxy, "proxy_set_header"):
        header, value = line.split(None, 1)
        if value.startswith("$"):
            environ["HTTP_" + header.upper().replace("-", "_")] = values[value]
    return environ


@pytest.mark.django_db
def test_a_vote_through_nginx_records_the_voters_address_not_nginxs(compose, nominee, settings):
    proxy = default_of(compose["services"]["nginx"]["networks"]["default"]["ipv4_address"])
    settings.TRUSTED_PROXIES = [
        default_of(compose["services"]["web"]["environment"]["TRUSTED_PROXIES"])
    ]
    # A script forging its own X-Forwarded-For: nginx appends the address it really came from.
    extra = nginx_headers("203.0.113.9", sent_forwarded_for="198.51.100.1")
    response = vote_like_a_browser(nominee, Client(), REMOTE_ADDR=proxy, **extra)
    assert response.status_code == 200
    assert Vote.objects.get().ip == "203.0.113.9"
    assert response.redirect_chain[0][0] == "/sbia/ada-lovelace/"


@pytest.mark.django_db
def test_metrics_through_nginx_would_be_refused_by_laurel_too(compose, settings):
    proxy = default_of(compose["services"]["nginx"]["networks"]["default"]["ipv4_address"])
    settings.METRICS_ALLOWED = [proxy]  # even a careless allowance of the proxy's address
    response = Client().get("/metrics", REMOTE_ADDR=proxy, **nginx_headers("203.0.113.9"))
    assert response.status_code == 403


def test_compose_services_run_laurel_in_real_mode(compose):
    for name in ("migrate", "web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["LAUREL_MODE"] == "real"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_compose_migrates_before_serving_and_checks_health(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "web", "worker"):
        assert "test" in services[name]["healthcheck"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_keeps_data_in_named_volumes(compose):
    assert {"postgres-data", "redis-data", "media", "imports"} <= set(compose["volumes"])


def test_every_web_container_shares_the_import_folder(compose):
    """An import's preview and confirm may reach different web containers."""
    web = compose["services"]["web"]
    folder = web["environment"]["IMPORT_DIR"]
    assert f"imports:{folder}" in web["volumes"]


@pytest.mark.parametrize(
    "files", [["docker-compose.yml"], ["docker-compose.yml", "deploy/docker-compose.tls.yml"]]
)
def test_compose_files_are_valid_for_docker_compose(files):
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("LAUREL_REQUIRE_TOOLS"):
            pytest.fail("docker-compose is required here (LAUREL_REQUIRE_TOOLS is set)")
        pytest.skip("docker-compose is not installed; .ci/run installs it")
    env = {**os.environ, "SECRET_KEY": "compose-validation-secret", "TLS_CERTS_DIR": "/etc/ssl"}
    command = [tool]
    for name in files:
        command += ["-f", str(ROOT / name)]
    result = subprocess.run(
        [*command, "config", "-q"], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_https_turns_on_with_the_tls_file():
    tls = yaml.safe_load((ROOT / "deploy" / "docker-compose.tls.yml").read_text())
    for name in ("web", "worker", "beat", "migrate"):
        assert tls["services"][name]["environment"]["LAUREL_INSECURE_HTTP"] == "false"
    assert any("/etc/nginx/tls" in volume for volume in tls["services"]["nginx"]["volumes"])
