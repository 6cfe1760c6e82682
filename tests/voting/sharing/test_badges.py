"""A nominee's badge for their own site: valid, accessible SVG (and a PNG) that shows the rank
only where the public may see it, follows the results, caches with the standings, and links
back to the vote page with ?ref=badge."""

import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from PIL import Image

from awards.models import Award
from awards.stats_links import stats_path
from tests.ballots import cast_vote, vote_like_a_browser, voter_at
from tests.factories import NomineeFactory
from voting.models import Vote
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
BADGE = "/sbia/ada-lovelace/badge.svg"
RANK = re.compile(r"#\d+ in")
SNIPPET = re.compile(r'<textarea id="badge-snippet"[^>]*>(.*?)</textarea>', re.S)


@pytest.fixture
def runner_up(nominee, experts):
    """Ada Lovelace second in Experts: two votes for Grace, one for Ada."""
    grace = NomineeFactory(category=experts, name="Grace Hopper", slug="grace-hopper")
    for person, count in ((grace, 2), (nominee, 1)):
        for _ in range(count):
            cast_vote(nominee=person, voter=voter_at("198.51.100.4"), now=timezone.now())
    standings_recompute(award_id=nominee.award_id)
    return nominee


def set_award(nominee, **fields):
    Award.objects.filter(pk=nominee.award_id).update(**fields)


def publish_results(nominee, **fields):
    now = timezone.now()
    set_award(
        nominee,
        voting_opens=now - timedelta(days=30),
        voting_closes=now - timedelta(hours=2),
        results_published_at=now - timedelta(minutes=1),
        **fields,
    )


def badge_text(svg: str) -> str:
    root = ET.fromstring(svg)
    return " ".join(text.text or "" for text in root.iter(f"{SVG}text"))


def test_badge_is_valid_svg_with_size_and_accessible_text(client, runner_up):
    response = client.get(BADGE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "320",
        "100",
        "0 0 320 100",
    )
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and root.get("aria-labelledby") == title.get("id")
    assert "Ada Lovelace" in title.text and "Small Business Influencer Awards" in title.text
    assert "I'm nominated — vote for me" in badge_text(response.text)


def test_badge_loads_no_fonts_or_images_from_anywhere(client, runner_up):
    svg = client.get(BADGE).text
    for outside in ("<image", "href", "url(", "@import", "@font-face", "<script", "<foreignObject"):
        assert outside not in svg, outside


def test_badge_shows_the_rank_where_the_award_shows_ranks(client, runner_up):
    assert "#2 in Experts" in badge_text(client.get(BADGE).text)


def test_badge_shows_no_rank_before_the_first_vote(client, nominee):
    text = badge_text(client.get(BADGE).text)
    assert "Experts" in text
    assert not RANK.search(text)


@pytest.mark.parametrize(
    "hidden",
    [
        {"standings_visibility": Award.Visibility.HIDDEN},
        {"blackout_hours": 48, "voting_closes": timezone.now() + timedelta(hours=47)},
    ],
    ids=["hidden-until-published", "blackout"],
)
def test_badge_shows_no_rank_while_standings_are_hidden(client, runner_up, hidden):
    set_award(runner_up, **hidden)
    svg = client.get(BADGE).text
    png = client.get("/sbia/ada-lovelace/badge.png")
    assert not RANK.search(svg)
    assert "Experts" in badge_text(svg)
    # The PNG draws the same lines as the SVG; its ETag, made from what it shows, changes
    # once the rank may be shown.
    set_award(runner_up, standings_visibility=Award.Visibility.COUNTS, blackout_hours=0)
    assert "#2 in Experts" in badge_text(client.get(BADGE).text)
    assert png["ETag"] != client.get("/sbia/ada-lovelace/badge.png")["ETag"]


def test_badge_says_winner_once_results_are_published(client, runner_up, experts):
    publish_results(runner_up, finalists_per_category=1)
    assert "Winner" in badge_text(client.get("/sbia/grace-hopper/badge.svg").text)
    ada = badge_text(client.get(BADGE).text)
    assert "Winner" not in ada and "Finalist" not in ada and "vote for me" not in ada


def test_badge_says_finalist_once_results_are_published(client, runner_up):
    publish_results(runner_up, finalists_per_category=2)
    text = badge_text(client.get(BADGE).text)
    assert "Finalist" in text
    assert "#2 in Experts" in text


def test_results_published_later_stay_out_of_the_badge(client, runner_up):
    set_award(runner_up, results_published_at=timezone.now() + timedelta(days=1))
    text = badge_text(client.get(BADGE).text)
    assert "Winner" not in text and "Finalist" not in text


def test_names_are_escaped_and_long_ones_cut_to_fit(client, experts):
    name = 'Ben & "Jerry" <script>alert(1)</script> of the Very Long Ice Cream Name'
    NomineeFactory(category=experts, name=name, slug="ben-jerry")
    response = client.get("/sbia/ben-jerry/badge.svg")
    root = ET.fromstring(response.content)  # parses: nothing unescaped
    assert "<script" not in response.text
    assert name in root.find(f"{SVG}title").text
    assert "…" in badge_text(response.text)


def test_badge_png_is_a_png_of_sane_size(client, runner_up):
    response = client.get("/sbia/ada-lovelace/badge.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == (640, 200)
    assert 1_000 < len(response.content) < 60_000


def test_badges_are_kept_by_shared_caches_as_briefly_as_the_standings_pages(
    client, runner_up, settings
):
    settings.SHARED_PAGE_SECONDS = 7
    control = set(client.get(BADGE)["Cache-Control"].split(", "))
    assert {"public", "max-age=0", "s-maxage=7", "stale-while-revalidate=7"} <= control
    # A reader's browser that still has the cookie of a vote gets the same badge, kept alike.
    client.cookies["laurel_voter"] = "someone"
    assert set(client.get(BADGE)["Cache-Control"].split(", ")) == control


def test_an_unchanged_badge_is_answered_304(client, runner_up):
    first = client.get(BADGE)
    again = client.get(BADGE, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    png = client.get("/sbia/ada-lovelace/badge.png")
    assert png["ETag"] != first["ETag"]
    again = client.get("/sbia/ada-lovelace/badge.png", headers={"If-None-Match": png["ETag"]})
    assert again.status_code == 304


def test_a_new_rank_is_a_new_etag(client, runner_up, experts):
    before = client.get(BADGE)["ETag"]
    for _ in range(3):
        cast_vote(nominee=runner_up, voter=voter_at("198.51.100.8"), now=timezone.now())
    standings_recompute(award_id=runner_up.award_id)
    after = client.get(BADGE, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert "#1 in Experts" in badge_text(after.text)


def test_badges_can_be_embedded_by_other_sites_and_set_no_cookie(client, runner_up):
    for url in (BADGE, "/sbia/ada-lovelace/badge.png"):
        response = client.get(url)
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert response["Access-Control-Allow-Origin"] == "*"
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")


def test_badge_of_an_unknown_or_inactive_nominee_is_404(client, nominee):
    assert client.get("/sbia/nobody/badge.svg").status_code == 404
    nominee.is_active = False
    nominee.save()
    assert client.get(BADGE).status_code == 404


def test_badges_only_answer_get_and_head(client, nominee):
    assert client.head(BADGE).status_code == 200
    assert client.post(BADGE).status_code == 405


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        self.tags.setdefault(tag, dict(attrs))


def snippet_of(page) -> dict[str, dict]:
    """The copyable snippet's <a> and <img> attributes, as a site pasting it would read them."""
    match = SNIPPET.search(page.text)
    assert match, "the page has no badge snippet"
    parser = Tags()
    parser.feed(html.unescape(match.group(1)))
    return parser.tags


def test_the_toolkit_offers_html_linking_the_badge_to_the_vote_page(client, nominee):
    page = client.get(stats_path(nominee))
    tags = snippet_of(page)
    assert tags["a"]["href"] == "http://testserver/sbia/ada-lovelace/?ref=badge"
    image = tags["img"]
    assert image.get("src") == "http://testserver/sbia/ada-lovelace/badge.svg"
    assert (
        image.get("alt") == "Vote for Ada Lovelace in Experts at Small Business Influencer Awards"
    )
    assert (image.get("width"), image.get("height")) == ("320", "100")
    assert 'data-copy-target="badge-snippet"' in page.text
    assert 'value="http://testserver/sbia/ada-lovelace/badge.png"' in page.text
    assert 'data-copy-target="copy-badge-png"' in page.text
    assert re.search(r"/static/js/copy(\.[0-9a-f]{12})?\.js", page.text)  # hashed in real mode


def test_the_snippet_escapes_names_once(client, experts):
    ben = NomineeFactory(category=experts, name="Ben & Jerry", slug="ben-jerry")
    tags = snippet_of(client.get(stats_path(ben)))
    assert tags["img"]["alt"].startswith("Vote for Ben & Jerry in")


def test_votes_through_the_badge_are_recorded_as_channel_badge(client, nominee):
    href = snippet_of(client.get(stats_path(nominee)))["a"]["href"]
    landing = client.get(href)
    assert 'name="ref" value="badge"' in landing.text
    response = vote_like_a_browser(nominee, data={"ref": "badge"}, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 200
    assert Vote.objects.get().ref == "badge"
