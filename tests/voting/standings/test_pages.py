import pytest
from django.urls import reverse

from tests.factories import NomineeFactory

pytestmark = pytest.mark.django_db


def test_home_lists_awards(client, nominee):
    response = client.get("/")
    assert response.status_code == 200
    assert nominee.award.name in response.text


def test_award_home_shows_categories_and_time_left_in_the_awards_zone(client, nominee):
    response = client.get(nominee.award.get_absolute_url())
    assert response.status_code == 200
    assert "Experts" in response.text
    assert "left" in response.text
    assert "PST" in response.text or "PDT" in response.text


def test_an_award_without_votes_invites_the_first_without_numbering_it(client, nominee):
    response = client.get(nominee.award.get_absolute_url())
    assert "<p>No votes yet. Be the first!</p>" in response.text
    assert "<li>No votes yet" not in response.text


def test_category_page_lists_its_active_nominees(client, nominee):
    hidden = NomineeFactory(category=nominee.category, name="Hidden Person", is_active=False)
    response = client.get(nominee.category.get_absolute_url())
    assert response.status_code == 200
    assert "Ada Lovelace" in response.text
    assert hidden.name not in response.text


def test_category_page_paginates_a_large_category(client, experts):
    NomineeFactory.create_batch(320, category=experts)
    first = client.get(experts.get_absolute_url())
    last = client.get(experts.get_absolute_url(), {"page": 7})
    assert first.context["page"].paginator.num_pages == 7
    assert len(first.context["page"]) == 48
    assert len(last.context["page"]) == 320 - 6 * 48
    assert 'rel="next"' in first.text


def test_category_search_finds_by_name_and_handle(client, nominee):
    NomineeFactory(category=nominee.category, name="Grace Hopper", twitter_handle="amazinggrace")
    by_name = client.get(nominee.category.get_absolute_url(), {"q": "lovelace"})
    by_handle = client.get(nominee.category.get_absolute_url(), {"q": "@amazinggrace"})
    assert [n.name for n in by_name.context["page"]] == ["Ada Lovelace"]
    assert [n.name for n in by_handle.context["page"]] == ["Grace Hopper"]


def test_category_page_survives_a_nonsense_page_number(client, experts):
    response = client.get(experts.get_absolute_url(), {"page": "9999x"})
    assert response.status_code == 200


def test_nominee_page_shows_initials_headline_and_links(client, nominee):
    nominee.website = "https://ada.example.com"
    nominee.save()
    response = client.get(nominee.get_absolute_url())
    assert response.status_code == 200
    assert '<h1 id="nominee-name">Ada Lovelace</h1>' in response.text
    assert ">AL<" in response.text
    assert "https://ada.example.com" in response.text
    assert "@" + nominee.twitter_handle in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-award/",
        "/sbia/categories/no-such-category/",
        "/sbia/no-such-nominee/",
    ],
)
def test_unknown_things_get_a_real_404_page(client, nominee, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "We couldn't find that page" in response.text


def test_inactive_nominee_page_is_a_404(client, nominee):
    nominee.is_active = False
    nominee.save()
    assert client.get(nominee.get_absolute_url()).status_code == 404


def test_pages_load_no_assets_from_the_internet(client, nominee):
    for url in ["/", nominee.award.get_absolute_url(), nominee.get_absolute_url()]:
        text = client.get(url).text
        for tag in ('src="http', 'href="http'):
            # Only the nominee's own outbound links may point elsewhere, never a stylesheet or script;
            # the canonical link is absolute, to this site.
            for line in text.splitlines():
                if tag in line:
                    assert "<a " in line or f"{tag}://testserver/" in line, line
    assert reverse("home") == "/"
