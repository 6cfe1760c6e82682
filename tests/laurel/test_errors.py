"""Bad input gets a clear 4xx, never a 500, and loses nothing; people get Laurel's pages and
scripts (the JSON API, the vote button) get JSON."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse

from awards.models import Nominee
from laurel.urls import handler400, handler403, handler404, handler500  # noqa: F401 - used by Django
from laurel.urls import urlpatterns as laurel_urlpatterns
from voting.models import Vote

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
JSON = "application/json"


def broken(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


def searched_for_nul(request):
    """A search box that sends the query to the database as typed."""
    return HttpResponse(str(Nominee.objects.filter(name__icontains=request.GET["q"]).count()))


urlpatterns = [
    path("search-as-typed/", searched_for_nul),
    path("api/search-as-typed/", searched_for_nul),
    path("broken/", broken),
    path("api/broken/", broken),
    path("forbidden/", forbidden),
    *laurel_urlpatterns,
]


@pytest.fixture
def browser_client():
    """A client that answers a view's exception as a browser sees it: the 500 page."""
    return Client(raise_request_exception=False)


@pytest.fixture
def organizer_client(organizer):
    client = Client()
    client.force_login(organizer)
    return client


@pytest.mark.parametrize(
    "address",
    [
        "/sbia/?q=%00",
        "/sbia/categories/experts/?q=ada%00",
        "/sbia/standings/?q=%00",
        "/sbia/standings/experts/?q=a%00b",
        "/api/sbia/standings/?q=%00",
        "/sbia/ada-lovelace/reminder.ics?at=08:00%00&tz=%00",
        "/sbia/ada-lovelace/?ref=%00twitter",
    ],
)
def test_a_nul_in_any_search_box_or_query_never_gives_a_500(nominee, address):
    response = Client(raise_request_exception=False).get(address)
    assert response.status_code < 500


def test_a_nul_in_any_admin_search_or_filter_never_gives_a_500(nominee, organizer):
    client = Client(raise_request_exception=False)
    client.force_login(organizer)
    for model in (model for model in apps.get_models() if admin.site.is_registered(model)):
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in ("?q=%00", "?q=ada%00lovelace", "?o=%00", "?p=%00"):
            assert client.get(changelist + query).status_code < 500, changelist + query


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite stores a NUL as text")
def test_a_nul_the_database_refuses_is_a_400_page_not_a_500(nominee):
    response = Client(raise_request_exception=False).get("/search-as-typed/?q=ada%00")
    assert response.status_code == 400
    assert "couldn't read that request" in response.text
    assert 'class="site-header"' in response.text  # Laurel's page, not Django's
    scripted = Client(raise_request_exception=False).get("/api/search-as-typed/?q=%00")
    assert (scripted.status_code, scripted.json()["status"]) == (400, 400)


def test_a_nul_in_the_path_is_a_400(db):
    assert Client().get("/sbia%00/").status_code == 400
    assert Client().get("/api/sbia%00/standings/").json()["status"] == 400


MULTIPART = '--B\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n--B--\r\n'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=utf-16", "token=abc&ref=twitter"),
        ("application/x-www-form-urlencoded; charset=UTF-32", "token=abc&ref=twitter"),
        ("application/x-www-form-urlencoded; charset=latin-1", "token=abc&ref=twitter"),
        ("multipart/form-data; charset=utf-16; boundary=B", MULTIPART),
    ],
    ids=["form-utf-16", "form-utf-32", "form-latin-1", "multipart-utf-16"],
)
def test_a_form_in_a_charset_forms_never_use_is_refused_and_records_nothing(
    nominee, content_type, body
):
    response = Client().post("/sbia/ada-lovelace/vote/", body, content_type=content_type)
    assert response.status_code == 400
    assert "Nothing was recorded" in response.text
    assert not Vote.objects.exists()


def test_the_admin_login_refuses_a_utf16_form_with_400(db):
    response = Client().post(
        reverse("admin:login"),
        "username=organizer&password=x",
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400


def test_a_charset_nobody_knows_is_read_as_utf8(nominee):
    response = Client().generic(
        "POST",
        "/sbia/ada-lovelace/vote/",
        b"ref=twitter",
        content_type="application/x-www-form-urlencoded; charset=no-such-charset",
        HTTP_ACCEPT=JSON,
    )
    # Read, then refused for want of a token: the vote box asks for a confirming click.
    assert response.status_code == 403
    assert response.json()["outcome"] == "confirm"


def test_the_api_answers_an_unknown_award_or_category_in_json(nominee):
    for address in ("/api/nope/standings/", "/api/sbia/standings/nope/", "/api/sbia/nominees/x/"):
        response = Client().get(address)
        assert response.status_code == 404
        assert response["Content-Type"] == JSON
        assert response.json()["status"] == 404
        assert "html" not in response.json()  # widgets have no use for the vote box's markup


def test_a_json_vote_for_an_unknown_nominee_gets_json_the_vote_button_can_show(nominee):
    response = Client().post("/sbia/nobody/vote/", {"token": "x"}, HTTP_ACCEPT=JSON)
    assert response.status_code == 404
    assert 'role="alert"' in response.json()["html"]


def test_a_json_vote_with_the_wrong_method_gets_a_json_405_with_allow(nominee):
    response = Client().put("/sbia/ada-lovelace/vote/", HTTP_ACCEPT=JSON)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["status"] == 405


def test_a_json_vote_from_another_site_gets_a_json_403_and_records_nothing(nominee):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/sbia/ada-lovelace/vote/",
        {"token": "x"},
        HTTP_ACCEPT=JSON,
        HTTP_ORIGIN="https://elsewhere.example",
    )
    assert response.status_code == 403
    assert "Nothing was recorded" in response.json()["error"]
    assert 'href="/sbia/ada-lovelace/">Reload and vote</a>' in response.json()["html"]
    assert not Vote.objects.exists()


def test_a_form_vote_without_any_token_gets_the_styled_page(nominee):
    response = Client(enforce_csrf_checks=True).post("/sbia/ada-lovelace/vote/", {"ref": "x"})
    assert response.status_code == 403
    assert "Nothing was recorded" in response.text
    assert 'class="site-header"' in response.text
    assert 'class="button" href="/sbia/ada-lovelace/">Reload and vote</a>' in response.text
    assert "security token" not in response.text


def test_any_other_refused_form_offers_to_reload_the_page_it_came_from(organizer):
    client = Client(enforce_csrf_checks=True)
    login = reverse("admin:login")
    response = client.post(login, {"username": "x"}, HTTP_REFERER=f"http://testserver{login}")
    assert response.status_code == 403
    assert f'href="http://testserver{login}">Reload the page</a>' in response.text


def test_a_refused_form_never_links_back_to_another_site(organizer):
    client = Client(enforce_csrf_checks=True)
    login = reverse("admin:login")
    response = client.post(login, {"username": "x"}, HTTP_REFERER="https://evil.example/x")
    assert response.status_code == 403
    assert "evil.example" not in response.text
    assert '<a class="button" href="/">See all awards</a>' in response.text


def test_a_bug_gives_people_the_styled_500_page(browser_client):
    response = browser_client.get("/broken/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert '<link rel="stylesheet"' in response.text
    assert "style=" not in response.text  # nothing the Content Security Policy would block


def test_a_bug_gives_scripts_a_json_500(browser_client):
    for response in (
        browser_client.get("/api/broken/"),
        browser_client.get("/broken/", HTTP_ACCEPT=JSON),
    ):
        assert response.status_code == 500
        assert response.json()["status"] == 500


def test_a_refusal_gets_the_styled_403_page_or_json(db):
    page = Client().get("/forbidden/")
    assert page.status_code == 403
    assert "That isn't allowed" in page.text
    assert Client().get("/forbidden/", HTTP_ACCEPT=JSON).json()["status"] == 403


def test_an_unknown_page_gets_the_styled_404_page(db):
    response = Client().get("/no-such-award/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.text
    assert 'class="site-header"' in response.text
