"""A nominee added in the admin gets a share link made from their name, in any script."""

import pytest
from django.test import Client

from awards.models import Nominee

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(organizer):
    client = Client()
    client.force_login(organizer)
    return client


def add(desk, award, category, name: str, slug: str = ""):
    return desk.post(
        "/admin/awards/nominee/add/",
        {
            "award": award.pk,
            "category": category.pk,
            "name": name,
            "slug": slug,
            "audience_size": "0",
            "is_active": "on",
        },
    )


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Søren Wójcik", "soren-wojcik"), ("李娜 Zhang", "li-na-zhang"), ("Rules", "rules-2")],
)
def test_an_empty_slug_is_made_from_the_name(desk, award, experts, name, slug):
    response = add(desk, award, experts, name)
    assert response.status_code == 302, response.content[:2000]
    assert Nominee.objects.get(name=name).slug == slug


def test_a_second_namesake_gets_a_numbered_slug(desk, award, experts, nominee):
    assert add(desk, award, experts, "Ada Lovelace").status_code == 302
    assert Nominee.objects.filter(name="Ada Lovelace").order_by("id").last().slug == (
        "ada-lovelace-2"
    )


def test_a_name_without_letters_asks_for_a_slug(desk, award, experts):
    response = add(desk, award, experts, "★ ★")
    assert response.status_code == 200
    assert "enter a slug for the link" in response.text
    assert add(desk, award, experts, "★ ★", slug="stars").status_code == 302


def test_a_slug_given_is_kept(desk, award, experts):
    assert add(desk, award, experts, "Søren Wójcik", slug="soren").status_code == 302
    assert Nominee.objects.get().slug == "soren"
