"""Laurel as deployed: the shipped nginx configuration (deploy/local_nginx.py) in front of
gunicorn on a unix socket, in real mode, with a Celery worker and its beat. What voters and
nominees' readers get through the proxy, what it keeps and for whom, and how soon a vote or an
organizer's edit shows through it."""

import http.client
import json
import random
import threading
import time

import pytest

from deploy.local_nginx import LocalNginx, nginx_binary

from .harness import vote_request

# serial: a private PostgreSQL, Redis, gunicorn, Celery and nginx, timed; alone, after the rest.
pytestmark = [pytest.mark.services, pytest.mark.serial]

# The bound: a counted vote, or an organizer's edit, shows through the proxy within it.
FRESH_SECONDS = 15
# A loopback address of the test's own for the visitor, so that nginx's X-Forwarded-For (the
# address that connected to it) can be told from anything else.
VISITOR = "127.0.0.5"


@pytest.fixture
def deployed(stack, tmp_path):
    if nginx_binary() is None:
        pytest.fail("nginx is required here (.ci/run installs Debian's nginx)")
    socket_path = tmp_path / "gunicorn.sock"
    with LocalNginx(tmp_path / "nginx", upstream=f"unix:{socket_path}") as nginx:
        stack.url = nginx.url
        # Only the socket is trusted: the voter is whoever connected to nginx.
        stack.web(bind=f"unix:{socket_path}", TRUSTED_PROXIES="none")
        yield stack, nginx


class Answer:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache-Status")

    def json(self) -> dict:
        return json.loads(self.body)


def fetch(url: str, path: str, *, method: str = "GET", body: bytes | None = None, **headers):
    """A request from VISITOR, as a browser elsewhere would send it."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=30, source_address=(VISITOR, 0)
    )
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def vote(stack, award, nominee, *, spoofed: str = "") -> Answer:
    request, _token = vote_request(stack.url, award, nominee, random.Random(7))
    headers = {name: value for name, value in request.header_items() if name != "X-forwarded-for"}
    if spoofed:
        headers["X-Forwarded-For"] = spoofed
    return fetch(stack.url, request.selector, method="POST", body=request.data, **headers)


def test_the_proxy_keeps_what_everyone_sees_alike_and_nothing_of_anyone(deployed):
    stack, _nginx = deployed
    award = stack.seed("behind-nginx")
    first = award.nominees[0][1]
    shared = [
        "/",
        f"/{award.slug}/",
        f"/{award.slug}/standings/",
        f"/api/{award.slug}/standings/",
        f"/api/{award.slug}/nominees/{first}/",
        f"/{award.slug}/rules/",
        f"/{award.slug}/{first}/badge.svg",
        f"/{award.slug}/{first}/badge.png",
        f"/{award.slug}/{first}/qr.svg",
    ]
    for path in shared:
        miss = fetch(stack.url, path)
        assert miss.status == 200, (path, miss.status)
        assert miss.cache in ("MISS", "HIT"), path  # "/" was asked while gunicorn started
        assert "Set-Cookie" not in miss.headers, path
        # Another visitor, who came from a shared link and has a voter's cookie: the same copy.
        hit = fetch(stack.url, path + "?ref=twitter", Cookie="laurel_voter=someone-else")
        assert hit.cache == "HIT", path
        assert hit.body == miss.body, path
        assert "Set-Cookie" not in hit.headers, path
        # A browser that has the copy is told it is still good.
        etag = hit.headers["ETag"]
        assert fetch(stack.url, path, **{"If-None-Match": etag}).status == 304, path

    # The nominee's page carries the visitor's own cookie and vote box: never kept.
    page = f"/{award.slug}/{first}/"
    visits = [fetch(stack.url, page) for _ in range(2)]
    assert [visit.cache for visit in visits] == [None, None]
    cookies = [visit.headers["Set-Cookie"] for visit in visits]
    assert cookies[0] != cookies[1]

    # A cookie-holder's miss is answered, and nobody else ever gets it.
    mine = fetch(stack.url, f"/{award.slug}/privacy/", Cookie="laurel_voter=mine")
    assert mine.cache == "MISS"
    assert "public" not in mine.headers.get("Cache-Control", "")
    assert fetch(stack.url, f"/{award.slug}/privacy/").cache == "MISS"

    # The voter is whoever connected to nginx, whatever the request itself claims.
    assert vote(stack, award, award.nominees[1], spoofed="198.51.100.77").status == 200
    # The private cluster is shared by every scenario: this award's votes only.
    cast = stack.postgres.sql("SELECT ip FROM voting_vote WHERE award_id = %s", (award.id,))
    assert cast == [(VISITOR,)]

    # Prometheus' page is for the network inside, however it is spelled.
    for path in ("/metrics", "/%6detrics", "//metrics"):
        assert fetch(stack.url, path).status == 404, path

    # Only the import takes a large body.
    big = b"x" * (11 * 1024 * 1024)
    assert fetch(stack.url, f"/{award.slug}/{first}/vote/", method="POST", body=big).status == 413
    imported = fetch(stack.url, "/admin/awards/nominee/import/", method="POST", body=big)
    assert imported.status not in (413, 502), imported.status  # Laurel answered it


def test_one_request_renders_a_page_while_the_others_wait_for_it(deployed):
    stack, _nginx = deployed
    award = stack.seed("stampede")
    path = f"/{award.slug}/standings/?page=1"
    answers: list[Answer] = []
    start = threading.Barrier(20)

    def read() -> None:
        start.wait()
        answers.append(fetch(stack.url, path))

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status for answer in answers] == [200] * 20
    assert sorted(answer.cache for answer in answers).count("MISS") == 1
    # Laurel's own log: the page was rendered once.
    log = (stack.directory / "web.log").read_text().splitlines()
    rendered = [line for line in log if f"GET {path}" in line and "request_finished" in line]
    assert len(rendered) == 1, rendered


def test_a_vote_and_an_edit_show_through_the_proxy_and_an_outage_shows_the_last_copy(deployed):
    stack, _nginx = deployed
    award = stack.seed("fresh-through-nginx")
    stack.worker()
    stack.beat()
    pk, slug = award.nominees[0]
    api = f"/api/{award.slug}/nominees/{slug}/"
    assert fetch(stack.url, api).json()["rank"] is None
    assert fetch(stack.url, api).cache == "HIT"

    assert vote(stack, award, award.nominees[0]).status == 200
    counted = time.monotonic()
    while fetch(stack.url, api).json()["rank"] != 1:
        assert time.monotonic() - counted < FRESH_SECONDS, "the vote never showed"
        time.sleep(0.25)
    print(f"the vote showed through the proxy after {time.monotonic() - counted:.1f} s")

    stack.django(
        "from awards.models import Nominee\n"
        f"nominee = Nominee.objects.get(pk={pk})\n"
        "nominee.name = 'Søren Wójcik'\n"
        "nominee.save()\n"
        "print('1')\n"
    )
    edited = time.monotonic()
    while fetch(stack.url, api).json()["nominee"] != "Søren Wójcik":
        assert time.monotonic() - edited < FRESH_SECONDS, "the edit never showed"
        time.sleep(0.25)
    print(f"the edit showed through the proxy after {time.monotonic() - edited:.1f} s")

    # Laurel stops (a deploy, a crash): readers get the last copy, not an error page.
    home = f"/{award.slug}/"
    fetch(stack.url, home)
    stack.kill("web")
    time.sleep(stack_shared_seconds() * 2 + 1)
    stale = fetch(stack.url, home)
    assert stale.status == 200
    assert stale.cache == "STALE"
    assert "Søren Wójcik" in stale.body.decode()


def stack_shared_seconds() -> int:
    from django.conf import settings

    return settings.SHARED_PAGE_SECONDS
