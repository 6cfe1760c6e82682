"""Whatever arrives, Laurel answers with a page or a 4xx, never a server error.

Hypothesis sends every public URL (read from laurel/urls.py, so a new page is covered the day
it is added) odd slugs, ids and tokens, unicode and NUL, huge and empty bodies, every method,
forged or garbled cookies and forms in charsets no browser uses. Derandomized and bounded, so a
run is repeatable and quick; a failure found once is kept below as an @example.
"""

import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from laurel.urls import urlpatterns
from tests.factories import NomineeFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW"]
PUBLIC_ROUTES = sorted(
    str(entry.pattern)
    for entry in urlpatterns
    # Includes are the admin, which is behind its login; everything else is someone's page.
    if isinstance(entry, URLPattern)
)
# A health check's 503 is its answer, not a failure: the load balancer reads it.
HEALTH_PATHS = {
    "/" + str(entry.pattern) for entry in urlpatterns if getattr(entry, "name", None) == "healthz"
}

# Text as it arrives from the wild: control characters and NUL, unicode of every plane, lone
# surrogates' replacement, right-to-left marks, very long strings.
wild_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(
        ["", "\x00", "a\x00b", "%00", "\u202e", "\ufeff", "💥" * 50, "../../etc/passwd", "x" * 5000]
    ),
    st.from_regex(r"[-\w]{1,90}", fullmatch=True),
)
numbers = st.one_of(
    st.integers(min_value=0, max_value=2**70).map(str),
    st.sampled_from(["0", "-1", "1e9", "9" * 30, "NaN", "1.5", ""]),
)
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=nonsense",
    "multipart/form-data",
    "multipart/form-data; boundary=fuzz",
    "multipart/form-data; boundary=",
    "application/json",
    "application/json; charset=utf-32",
    "text/plain; charset=utf-7",
    "",
]
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"token=&altcha=&ref=",
            b"token=%00&altcha=%ff%fe&ref=%00",
            b'--fuzz\r\nContent-Disposition: form-data; name="token"\r\n\r\nx\r\n--fuzz--',
            b'{"token": null, "altcha": [1, 2]}',
            "token=été".encode("utf-16"),
            b"token=" + b"a" * 5000,
            b"a=b&" * 300,
        ]
    ),
)
# Cookies as a browser never set them: garbled, forged, oversized.
cookie_values = st.one_of(wild_text, st.sampled_from(["", '"', "a:b:c", "x" * 4000, "\x00"]))
header_text = wild_text.map(lambda text: text.encode("utf-8", "replace").decode("latin-1"))


def as_header(value: str) -> str:
    """What a WSGI server hands Django: the raw bytes decoded as latin-1, one line."""
    return value.replace("\r", " ").replace("\n", " ")


AWARD_SLUG, CATEGORY_SLUG, NOMINEE_SLUG = "fuzz-awards", "experts", "ada-lovelace"
AWARD_ID = "AWARD-ID"  # stands for the award's id, which the database chooses


@pytest.fixture
def cast(db):
    """An award with a category and nominees, whose slugs and id the fuzzer reuses."""
    nominee = NomineeFactory(
        slug=NOMINEE_SLUG, category__slug=CATEGORY_SLUG, category__award__slug=AWARD_SLUG
    )
    NomineeFactory(category=nominee.category)
    return nominee


def path_for(route: str, values: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        return quote(values.get(match["name"], "x"), safe="")

    if route.startswith("^"):  # a re_path, such as the media files
        return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: quote(values["any"]), route[1:-1])
    return "/" + PARAMETER.sub(fill, route)


@st.composite
def requests(draw):
    route = draw(st.sampled_from(PUBLIC_ROUTES))
    known = {
        "award_slug": AWARD_SLUG,
        "category_slug": CATEGORY_SLUG,
        "nominee_slug": NOMINEE_SLUG,
        "award_id": AWARD_ID,
        "any": "nominees/ada.png",
    }
    values = {
        name: draw(st.one_of(st.just(value), wild_text, numbers)) for name, value in known.items()
    }
    values["token"] = draw(st.one_of(wild_text, st.just("AbC.dEf-123")))
    query = draw(
        st.dictionaries(
            st.sampled_from(["q", "page", "ref", "at", "tz", "v", "format", "next"]),
            st.one_of(wild_text, numbers),
            max_size=3,
        )
    )
    raw_query = "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items())
    if draw(st.booleans()):
        raw_query += draw(st.sampled_from(["", "&q=%ZZ", "&q=%C3%28", "&page=%00", "&&=&"]))
    cookies = draw(
        st.dictionaries(
            st.sampled_from(["laurel_voter", "csrftoken", "laurel_outcome", "sessionid"]),
            cookie_values,
            max_size=4,
        )
    )
    return {
        "method": draw(st.sampled_from(METHODS)),
        "path": path_for(route, values) + (f"?{raw_query}" if raw_query else ""),
        "body": draw(bodies),
        "content_type": draw(st.sampled_from(CONTENT_TYPES)),
        "accept": draw(st.sampled_from(["text/html", "application/json", "*/*", ""])),
        "cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "forwarded_for": draw(st.one_of(st.just(""), header_text, st.just("1.2.3.4, ::1, x"))),
        "user_agent": draw(header_text),
    }


def send(request: dict):
    # A new browser each time, checking CSRF as production does.
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    extra = {"HTTP_ACCEPT": request["accept"], "HTTP_USER_AGENT": as_header(request["user_agent"])}
    if request["cookie"]:
        extra["HTTP_COOKIE"] = as_header(request["cookie"].encode("utf-8").decode("latin-1"))
    if request["forwarded_for"]:
        extra["HTTP_X_FORWARDED_FOR"] = as_header(request["forwarded_for"])
    return client.generic(
        request["method"],
        request["path"],
        request["body"],
        content_type=request["content_type"],
        **extra,
    )


@pytest.fixture
def sent(cast):
    def check(request: dict) -> None:
        request = request | {"path": request["path"].replace(AWARD_ID, str(cast.award_id))}
        response = send(request)
        if request["path"].partition("?")[0] in HEALTH_PATHS:
            assert response.status_code < 500 or response.status_code == 503
            return
        assert response.status_code < 500, (request, response.status_code, response.content[:500])

    return check


def test_every_public_url_is_covered():
    assert len(PUBLIC_ROUTES) >= 15
    assert "<award:award_slug>/<nominee:nominee_slug>/vote/" in PUBLIC_ROUTES


def page_request(path: str, **changes) -> dict:
    return {
        "method": "GET",
        "path": path,
        "body": b"",
        "content_type": "",
        "accept": "text/html",
        "cookie": "",
        "forwarded_for": "",
        "user_agent": "Mozilla/5.0",
    } | changes


@settings(FUZZ, max_examples=350)
@given(incoming=requests())
# PostgreSQL refuses a NUL in a string: in a search, and in a session cookie looked up on
# every page that reads the session.
@example(incoming=page_request(f"/{AWARD_SLUG}/?q=%00"))
@example(incoming=page_request("/", cookie="sessionid=0000000\x00"))
@example(incoming=page_request(f"/{AWARD_SLUG}/{NOMINEE_SLUG}/", cookie="sessionid=\x00" * 40))
def test_no_request_to_a_public_url_gets_a_server_error(sent, incoming):
    sent(incoming)


def vote_post(cast, body: bytes, content_type: str, **changes) -> dict:
    return (
        page_request(
            cast.get_absolute_url() + "vote/",
            method="POST",
            body=body,
            content_type=content_type,
            accept="application/json",
        )
        | changes
    )


@settings(FUZZ, max_examples=150)
@given(
    body=bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
    accept=st.sampled_from(["text/html", "application/json"]),
    # Mostly a well-formed CSRF token, so that the body reaches the view.
    csrf=st.one_of(st.just("abcdefghijklmnopqrstuvwxyzABCDEF"), cookie_values),
)
@example(
    body="token=été".encode("utf-16"),
    content_type="application/x-www-form-urlencoded; charset=utf-16",
    accept="text/html",
    csrf="",
)
@example(body=b"a=b&" * 300, content_type=CONTENT_TYPES[0], accept="application/json", csrf="")
def test_no_vote_form_gets_a_server_error(sent, cast, body, content_type, accept, csrf):
    # With a CSRF cookie and the same value in the form, so that the view itself parses it.
    form = b"csrfmiddlewaretoken=" + quote(csrf).encode() + b"&" + body
    sent(vote_post(cast, form, content_type, accept=accept, cookie=f"csrftoken={quote(csrf)}"))


@pytest.mark.parametrize("size", [0, 5000, 3_000_000])
def test_empty_and_huge_bodies_get_an_answer_not_an_error(sent, cast, size):
    sent(vote_post(cast, b"x" * size, CONTENT_TYPES[0]))
    sent(vote_post(cast, b"x" * size, "multipart/form-data; boundary=x"))


@settings(FUZZ, max_examples=120)
@given(
    route=st.sampled_from([route for route in PUBLIC_ROUTES if route.startswith("api/")]),
    query=st.dictionaries(st.sampled_from(["q", "page"]), st.one_of(wild_text, numbers)),
    method=st.sampled_from(METHODS),
)
@example(route="api/<slug:award_slug>/standings/", query={"q": "\x00"}, method="GET")
@example(route="api/<slug:award_slug>/standings/", query={"page": "9" * 30}, method="GET")
def test_the_json_api_never_answers_a_server_error(cast, route, query, method):
    path = path_for(
        route,
        {"award_slug": cast.award.slug, "category_slug": "experts", "nominee_slug": cast.slug},
    )
    client = Client(raise_request_exception=False)
    response = client.generic(
        method,
        path + "?" + "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items()),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code < 500, (method, path, query, response.content[:300])
    if response.status_code == 200:
        assert response["Content-Type"].startswith("application/json")
