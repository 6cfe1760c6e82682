"""Link previews: Open Graph and Twitter card tags and a canonical link on every public page."""

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from awards.models import Award
from tests.ballots import cast_vote, voter_at
from tests.factories import NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db

REQUIRED = [
    "og:title",
    "og:description",
    "og:type",
    "og:url",
    "og:image",
    "og:image:width",
    "og:image:height",
    "og:image:alt",
    "og:site_name",
    "twitter:card",
    "twitter:title",
    "twitter:description",
    "twitter:image",
]


class HeadTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (key := attrs.get("property") or attrs.get("name")):
            self.meta[key] = attrs.get("content", "")
        if tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])


def head_tags(response) -> HeadTags:
    assert response.status_code == 200
    parser = HeadTags()
    parser.feed(response.text)
    return parser


def public_pages(nominee) -> list[str]:
    slug = nominee.award.slug
    return [
        "/",
        f"/{slug}/",
        f"/{slug}/categories/experts/",
        f"/{slug}/standings/",
        f"/{slug}/standings/experts/",
        nominee.get_absolute_url(),
    ]


def test_every_public_page_has_preview_tags_with_absolute_urls(client, nominee):
    for url in public_pages(nominee):
        tags = head_tags(client.get(url))
        missing = [key for key in REQUIRED if not tags.meta.get(key)]
        assert not missing, (url, missing)
        assert tags.canonical == [f"http://testserver{url}"], url
        assert tags.meta["og:url"] == tags.canonical[0]
        assert tags.meta["og:image"].startswith("http://testserver/"), url
        assert tags.meta["twitter:image"] == tags.meta["og:image"]
        assert tags.meta["twitter:card"] == "summary_large_image"
        assert (tags.meta["og:image:width"], tags.meta["og:image:height"]) == ("1200", "630")
        assert tags.meta["og:site_name"] == "Laurel"


def test_the_nominee_page_previews_its_share_image(client, nominee):
    tags = head_tags(client.get(nominee.get_absolute_url()))
    image = tags.meta["og:image"]
    assert re.fullmatch(r"http://testserver/sbia/ada-lovelace/share\.png\?v=[0-9a-f]{12}", image)
    assert client.get(image.removeprefix("http://testserver")).status_code == 200
    assert tags.meta["og:title"] == "Vote for Ada Lovelace · Small Business Influencer Awards"
    assert "Ada Lovelace" in tags.meta["og:image:alt"]
    assert "Experts" in tags.meta["og:description"]
    assert tags.meta["twitter:creator"] == f"@{nominee.twitter_handle}"


def test_other_pages_preview_the_site_card(client, nominee):
    tags = head_tags(client.get(nominee.award.get_absolute_url()))
    # Real mode serves hashed names (ManifestStaticFilesStorage).
    assert re.fullmatch(
        r"http://testserver/static/img/laurel-card(\.[0-9a-f]{12})?\.png", tags.meta["og:image"]
    )
    card = Image.open(Path(settings.BASE_DIR) / "static" / "img" / "laurel-card.png")
    assert (card.format, card.size) == ("PNG", (1200, 630))


def test_the_canonical_link_drops_tracking_and_searches(client, nominee):
    tags = head_tags(client.get(nominee.get_absolute_url(), {"ref": "twitter", "utm_source": "x"}))
    assert tags.canonical == ["http://testserver/sbia/ada-lovelace/"]
    category = "/sbia/categories/experts/"
    assert head_tags(client.get(category, {"q": "ada"})).canonical == [
        f"http://testserver{category}"
    ]


def test_the_canonical_link_keeps_a_real_page_number(client, experts):
    NomineeFactory.create_batch(60, category=experts)
    standings_recompute(award_id=experts.award_id)
    for url in ("/sbia/categories/experts/", "/sbia/standings/experts/"):
        second = head_tags(client.get(url, {"page": 2, "ref": "x"}))
        assert second.canonical == [f"http://testserver{url}?page=2"], url
        assert head_tags(client.get(url, {"page": 1})).canonical == [f"http://testserver{url}"]
        assert head_tags(client.get(url, {"page": "x"})).canonical == [f"http://testserver{url}"]
        searched = head_tags(client.get(url, {"page": 2, "q": "a"}))
        assert searched.canonical == [f"http://testserver{url}"], url


def test_the_preview_names_the_rank_only_when_the_award_shows_it(client, nominee):
    for i in range(2):
        cast_vote(nominee=nominee, voter=voter_at(f"198.51.100.{i + 1}"), now=timezone.now())
    standings_recompute(award_id=nominee.award_id)
    shown = head_tags(client.get(nominee.get_absolute_url()))
    assert "#1 in Experts" in shown.meta["og:description"]
    assert "#1 in Experts" in shown.meta["og:image:alt"]
    Award.objects.filter(pk=nominee.award_id).update(standings_visibility=Award.Visibility.HIDDEN)
    response = client.get(nominee.get_absolute_url())
    hidden = head_tags(response)
    head = response.text.split("</head>")[0]
    assert not re.search(r"#\d", head)
    assert hidden.meta["og:image"] != shown.meta["og:image"]  # a new image, without the rank


def test_standings_previews_follow_the_visibility(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(
        blackout_hours=48, voting_closes=timezone.now() + timedelta(hours=2)
    )
    tags = head_tags(client.get("/sbia/standings/"))
    assert "hidden for the final 48 hours" in tags.meta["og:description"]


def test_a_missing_page_has_tags_but_no_canonical_link(client, nominee):
    for url in ("/sbia/nobody/", "/nope/", "/a/b/c/d/e/"):
        response = client.get(url)
        assert response.status_code == 404
        parser = HeadTags()
        parser.feed(response.text)
        assert parser.canonical == [], url
        assert "og:url" not in parser.meta, url


def test_a_forged_host_header_gets_a_400_not_a_500(nominee):
    from django.test import Client

    response = Client(raise_request_exception=False).get(
        nominee.get_absolute_url(), HTTP_HOST="evil.example"
    )
    assert response.status_code == 400
