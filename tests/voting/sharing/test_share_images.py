"""The nominee's share image: the picture a link preview shows, drawn with Pillow."""

import io
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from PIL import Image

from awards.models import Award
from tests.ballots import cast_vote, voter_at
from tests.factories import NomineeFactory
from voting.sharing.images import HEIGHT, WIDTH, share_card, share_image_render
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db


def give_votes(nominee, count: int) -> None:
    for i in range(count):
        cast_vote(nominee=nominee, voter=voter_at(f"198.51.100.{i + 1}"), now=timezone.now())
    standings_recompute(award_id=nominee.award_id)


def image_of(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


@pytest.fixture
def runner_up(nominee):
    """Ada, second in Experts behind a rival."""
    rival = NomineeFactory(category=nominee.category, name="Grace Hopper", slug="grace-hopper")
    give_votes(rival, 3)
    give_votes(nominee, 2)
    return nominee


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_share_image_is_a_1200_by_630_png(client, nominee):
    response = client.get(f"{nominee.get_absolute_url()}share.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = image_of(response)
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT) == (1200, 630)


def test_share_image_draws_the_rank_when_the_award_shows_ranks(runner_up):
    card = share_card(runner_up, now=timezone.now())
    assert (card.name, card.category, card.award) == (
        "Ada Lovelace",
        "Experts",
        runner_up.award.name,
    )
    assert card.rank == "#2 in Experts"


def test_a_nominee_without_votes_gets_no_rank_on_its_image(nominee):
    standings_recompute(award_id=nominee.award_id)
    assert share_card(nominee, now=timezone.now()).rank == ""


def test_hidden_standings_never_leak_through_the_image(client, runner_up):
    visible_card = share_card(runner_up, now=timezone.now())
    assert visible_card.rank == "#2 in Experts"
    visible = client.get(f"{runner_up.get_absolute_url()}share.png")
    Award.objects.filter(pk=runner_up.award_id).update(standings_visibility=Award.Visibility.HIDDEN)
    runner_up.award.refresh_from_db()
    hidden_card = share_card(runner_up, now=timezone.now())
    assert hidden_card.rank == ""
    hidden = client.get(f"{runner_up.get_absolute_url()}share.png")
    assert hidden["ETag"] != visible["ETag"]
    assert hidden.content != visible.content
    # Pixel for pixel the visible image without its rank: nothing else differs.
    assert hidden.content == share_image_render(replace(visible_card, rank=""))
    Award.objects.filter(pk=runner_up.award_id).update(
        standings_visibility=Award.Visibility.COUNTS,
        blackout_hours=24,
        voting_closes=timezone.now() + timedelta(hours=2),
    )
    runner_up.award.refresh_from_db()
    assert share_card(runner_up, now=timezone.now()).rank == ""


def test_published_results_say_winner_or_finalist(runner_up):
    Award.objects.filter(pk=runner_up.award_id).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(days=1),
        results_published_at=timezone.now() - timedelta(hours=1),
    )
    runner_up.award.refresh_from_db()
    card = share_card(runner_up, now=timezone.now())
    assert card.rank == "Finalist · Experts"
    assert card.call == ""  # voting is over: no call to vote
    grace = runner_up.category.nominees.get(slug="grace-hopper")
    assert share_card(grace, now=timezone.now()).rank == "Winner · Experts"


def test_the_image_is_cached_and_named_by_what_it_shows(client, runner_up):
    url = f"{runner_up.get_absolute_url()}share.png"
    first = client.get(url)
    card = share_card(runner_up, now=timezone.now())
    assert first["ETag"] == f'"{card.key}"'
    assert "immutable" not in first["Cache-Control"]  # asked without the version pages link
    assert cache.get(f"share-image:{card.key}") == first.content
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert not again.content


def test_the_image_pages_link_is_kept_forever_and_an_old_link_briefly(client, runner_up, settings):
    card = share_card(runner_up, now=timezone.now())
    url = f"{runner_up.get_absolute_url()}share.png"
    assert f"{url}?v={card.version}" in client.get(runner_up.get_absolute_url()).text
    named = client.get(f"{url}?v={card.version}")["Cache-Control"]
    assert {"public", "immutable", "max-age=31536000"} <= set(named.split(", "))
    old = client.get(f"{url}?v=000000000000")["Cache-Control"]
    assert "immutable" not in old
    assert f"s-maxage={settings.SHARED_PAGE_SECONDS}" in old


def test_a_new_rank_is_a_new_image(client, runner_up):
    url = f"{runner_up.get_absolute_url()}share.png"
    before = client.get(url)
    give_votes(runner_up, 5)  # overtakes Grace
    assert share_card(runner_up, now=timezone.now()).rank == "#1 in Experts"
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]


def test_the_photo_is_drawn_in_a_circle(nominee, media):
    (media / "nominees").mkdir()
    Image.new("RGB", (500, 700), (220, 20, 60)).save(media / "nominees" / "ada.png")
    nominee.photo.name = "nominees/ada.png"
    nominee.save()
    card = share_card(nominee, now=timezone.now())
    assert card.photo == "nominees/ada.png" and card.photo_size > 0
    image = Image.open(io.BytesIO(share_image_render(card))).convert("RGB")
    assert image.getpixel((220, 315)) == (220, 20, 60)  # the circle's centre
    assert image.getpixel((5, 5)) != (220, 20, 60)  # the corner, outside it


def test_a_missing_or_broken_photo_falls_back_to_initials(nominee, media):
    nominee.photo.name = "nominees/gone.jpg"
    nominee.save()
    assert share_card(nominee, now=timezone.now()).photo == ""
    (media / "nominees").mkdir()
    (media / "nominees" / "broken.jpg").write_bytes(b"not an image at all")
    nominee.photo.name = "nominees/broken.jpg"
    nominee.save()
    png = share_image_render(share_card(nominee, now=timezone.now()))
    assert Image.open(io.BytesIO(png)).size == (1200, 630)


@pytest.mark.parametrize(
    "name",
    [
        "Maximiliana Bartholomew-Featherstonehaugh von Longname of Somewhere Far " * 3,
        "Žofie Dvořáková",
        "李小龍",
        "X",
    ],
)
def test_any_name_fits(experts, name):
    nominee = NomineeFactory(category=experts, name=name[:200], slug=f"n-{uuid.uuid4().hex[:8]}")
    png = share_image_render(share_card(nominee, now=timezone.now()))
    assert Image.open(io.BytesIO(png)).size == (1200, 630)


def test_a_large_photo_is_cropped_into_the_card(nominee, media):
    # Speed is measured outside the suite (README: share images draw in 15-30 ms).
    (media / "nominees").mkdir()
    Image.effect_mandelbrot((3000, 2000), (-2, -1.2, 1, 1.2), 50).convert("RGB").save(
        media / "nominees" / "big.jpg", quality=90
    )
    nominee.photo.name = "nominees/big.jpg"
    nominee.save()
    png = share_image_render(share_card(nominee, now=timezone.now()))
    assert Image.open(io.BytesIO(png)).size == (1200, 630)


def test_unknown_or_inactive_nominees_have_no_image(client, nominee):
    assert client.get(f"/{nominee.award.slug}/nobody/share.png").status_code == 404
    nominee.is_active = False
    nominee.save()
    assert client.get(f"{nominee.get_absolute_url()}share.png").status_code == 404


def test_the_image_is_only_read(client, nominee):
    response = client.generic("PUT", f"{nominee.get_absolute_url()}share.png")
    assert response.status_code in (403, 405)
    assert client.head(f"{nominee.get_absolute_url()}share.png").status_code == 200
