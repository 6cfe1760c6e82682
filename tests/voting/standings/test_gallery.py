"""The nominee grid on the category and award pages, the award-wide search, and numbered pages."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import Paginator
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from PIL import Image

from tests.factories import AwardFactory, CategoryFactory, NomineeFactory

pytestmark = pytest.mark.django_db
CARD = re.compile(r'<li class="gallery-card">(.*?)</li>', re.S)
PAGE_ITEM = re.compile(r"<li[^>]*>(.*?)</li>", re.S)


def photo_file() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "#0b5d3b").save(buffer, "PNG")
    return SimpleUploadedFile("grace.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def cards(response) -> list[str]:
    return CARD.findall(response.text)


def test_category_grid_shows_photos_lazily_and_initials_otherwise(client, nominee, media):
    grace = NomineeFactory(
        category=nominee.category, name="Grace Hopper", slug="grace", photo=photo_file()
    )
    ada_card, grace_card = cards(client.get(nominee.category.get_absolute_url()))
    assert '<span class="avatar avatar-gallery" aria-hidden="true">AL</span>' in ada_card
    assert "<img" not in ada_card
    assert f'src="{grace.photo.url}"' in grace_card
    assert 'alt="Photo of Grace Hopper"' in grace_card
    assert 'loading="lazy"' in grace_card
    assert 'width="144" height="144"' in grace_card


def test_each_card_links_to_the_vote_page_with_name_and_headline(client, nominee):
    nominee.headline = "Poet of numbers"
    nominee.save()
    (card,) = cards(client.get(nominee.category.get_absolute_url()))
    assert f'href="{nominee.get_absolute_url()}"' in card
    assert '<strong class="gallery-name">Ada Lovelace</strong>' in card
    assert "Poet of numbers" in card


def test_award_page_shows_every_categorys_nominees_in_the_grid(client, nominee):
    apps = CategoryFactory(award=nominee.award, name="Apps", slug="apps")
    NomineeFactory(category=apps, name="Ledgerly", slug="ledgerly")
    response = client.get(nominee.award.get_absolute_url())
    assert response.status_code == 200
    grid = response.text.split('id="nominees-heading"')[1]
    assert '<span class="gallery-category">Apps</span>' in grid
    assert '<span class="gallery-category">Experts</span>' in grid
    # The categories section is still there, above the grid.
    assert response.text.index('id="categories-heading"') < response.text.index(
        'id="nominees-heading"'
    )


def award_page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_award_page_query_count_does_not_grow_with_nominees(client, nominee, settings):
    settings.STANDINGS_REFRESH_SECONDS = 3600  # no refresh in between to count
    url = nominee.award.get_absolute_url()
    client.get(url)  # the standings snapshot, computed on the first visit
    few = award_page_queries(client, url)
    apps = CategoryFactory(award=nominee.award)
    NomineeFactory.create_batch(30, category=apps)
    NomineeFactory.create_batch(30, category=nominee.category)
    assert award_page_queries(client, url) == few


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("grace", "Grace Hopper"),
        ("@amazinggrace", "Grace Hopper"),
        ("AMAZING", "Grace Hopper"),
        ("compiler", "Grace Hopper"),
        ("lovelace", "Ada Lovelace"),
    ],
)
def test_award_search_finds_by_name_handle_or_headline(client, nominee, query, found):
    apps = CategoryFactory(award=nominee.award, name="Apps", slug="apps")
    NomineeFactory(
        category=apps,
        name="Grace Hopper",
        twitter_handle="amazinggrace",
        headline="Compiler pioneer",
    )
    response = client.get(nominee.award.get_absolute_url(), {"q": query})
    assert [n.name for n in response.context["page"]] == [found]
    assert f'value="{query}"' in response.text
    assert "1 match for" in response.text


def test_award_search_covers_only_this_awards_active_nominees(client, nominee):
    NomineeFactory(category=nominee.category, name="Ada Hidden", is_active=False)
    elsewhere = CategoryFactory(award=AwardFactory(slug="other"))
    NomineeFactory(category=elsewhere, name="Ada Elsewhere")
    response = client.get(nominee.award.get_absolute_url(), {"q": "ada"})
    assert [n.name for n in response.context["page"]] == ["Ada Lovelace"]


def test_award_search_without_matches_says_so(client, nominee):
    response = client.get(nominee.award.get_absolute_url(), {"q": "nobody at all"})
    assert "0 matches for “nobody at all”" in response.text
    assert "No nominee matches" in response.text


@pytest.mark.parametrize("path", ["/sbia/", "/sbia/categories/experts/"])
@pytest.mark.parametrize("query", ["ada\x00", "\x00", "ada\x1b[31m", "ada\r\nlove", "\x7f\x9f"])
def test_control_characters_in_the_query_never_cause_a_500(client, nominee, path, query):
    response = client.get(path, {"q": query})
    assert response.status_code == 200
    assert "\x00" not in response.context["query"]
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", response.context["query"])


def test_a_query_with_a_nul_still_finds_the_nominee(client, nominee):
    response = client.get("/sbia/", {"q": "Ada\x00"})
    assert [n.name for n in response.context["page"]] == ["Ada Lovelace"]


def test_the_query_is_cut_to_100_characters(client, nominee):
    response = client.get("/sbia/", {"q": "a" * 5000})
    assert response.status_code == 200
    assert response.context["query"] == "a" * 100


def rendered_pages(count: int, number: int, query: str = "", **extra) -> str:
    page = Paginator(range(count), 1).get_page(number)
    return render_to_string(
        "voting/standings/_pagination.html", {"page": page, "query": query, **extra}
    )


def page_labels(html: str) -> str:
    items = PAGE_ITEM.findall(html.split('class="page-numbers"')[1].split("</ol>")[0])
    return " ".join(re.sub(r"<[^>]+>", "", item) for item in items)


@pytest.mark.parametrize(
    ("count", "number", "shown"),
    [
        (20, 6, "1 … 4 5 6 7 8 … 20"),
        (20, 1, "1 2 3 … 20"),
        (20, 4, "1 2 3 4 5 6 … 20"),
        # A gap of one page shows that page, not an ellipsis standing for it.
        (20, 5, "1 2 3 4 5 6 7 … 20"),
        (20, 16, "1 … 14 15 16 17 18 19 20"),
        (20, 17, "1 … 15 16 17 18 19 20"),
        (20, 20, "1 … 18 19 20"),
        (6, 1, "1 2 3 … 6"),
        (5, 1, "1 2 3 4 5"),
        (2, 2, "1 2"),
    ],
)
def test_pages_are_numbered_with_ellipses_for_long_lists(count, number, shown):
    assert page_labels(rendered_pages(count, number)) == shown


def test_page_links_keep_the_query_and_mark_the_current_page():
    html = rendered_pages(20, 6, query="Ada & co")
    assert 'href="?q=Ada%20%26%20co&amp;page=6" aria-current="page"' in html
    assert 'href="?q=Ada%20%26%20co&amp;page=20" aria-label="Page 20"' in html
    assert 'rel="prev" href="?q=Ada%20%26%20co&amp;page=5"' in html
    assert 'rel="next" href="?q=Ada%20%26%20co&amp;page=7"' in html
    assert html.count('aria-current="page"') == 1
    assert '<nav class="pagination" aria-label="Pages">' in html


def test_a_single_page_needs_no_page_links():
    assert rendered_pages(1, 1).strip() == ""


def test_award_search_results_are_numbered_pages_that_keep_the_query(client, experts, monkeypatch):
    monkeypatch.setattr("voting.standings.views.NOMINEES_PER_PAGE", 2)
    for n in range(40):
        NomineeFactory(category=experts, name=f"Match {n:02d}", slug=f"match-{n}")
    NomineeFactory(category=experts, name="Someone Else")
    response = client.get("/sbia/", {"q": "match", "page": 6})
    assert [n.name for n in response.context["page"]] == ["Match 10", "Match 11"]
    assert page_labels(response.text) == "1 … 4 5 6 7 8 … 20"
    assert 'href="?q=match&amp;page=20#nominees"' in response.text


def test_category_page_uses_numbered_pages(client, experts, monkeypatch):
    monkeypatch.setattr("voting.standings.views.NOMINEES_PER_PAGE", 2)
    NomineeFactory.create_batch(40, category=experts)
    response = client.get(experts.get_absolute_url(), {"page": 20})
    assert page_labels(response.text) == "1 … 18 19 20"
    assert 'aria-current="page"' in response.text


def test_standings_pages_use_numbered_pages(client, experts, monkeypatch):
    from voting.standings.services import standings_recompute

    monkeypatch.setattr("voting.standings.views.STANDINGS_PER_PAGE", 2)
    NomineeFactory.create_batch(40, category=experts)
    standings_recompute(award_id=experts.award_id)
    response = client.get("/sbia/standings/", {"page": 6})
    assert page_labels(response.text) == "1 … 4 5 6 7 8 … 20"
