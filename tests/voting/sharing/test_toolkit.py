"""The nominee's private toolkit, opened by their stats link: links, posts, badge and QR code
ready to copy, beside their votes; and the public page that no longer offers them to voters."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from awards.models import Award
from awards.stats_links import stats_path
from tests.ballots import vote_like_a_browser
from tests.factories import NomineeFactory

pytestmark = pytest.mark.django_db


class Fields(HTMLParser):
    """The readonly fields of a page, the Copy buttons aimed at them, and the status lines."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.targets: list[str] = []
        self.statuses = 0
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and "readonly" in attrs:
            self.fields[attrs["id"]] = attrs["value"]
        elif tag == "textarea" and "readonly" in attrs:
            self._textarea = attrs["id"]
            self.fields[self._textarea] = ""
        elif tag == "button" and "data-copy-target" in attrs:
            self.targets.append(attrs["data-copy-target"])
        if attrs.get("role") == "status" and "data-copy-status" in attrs:
            self.statuses += 1

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def fields_of(html: str) -> Fields:
    parser = Fields()
    parser.feed(html)
    return parser


def test_every_link_and_embed_code_has_a_copy_button_and_a_status_line(client, nominee):
    page = fields_of(client.get(stats_path(nominee)).text)
    assert set(page.fields) == {
        "copy-vote-link",
        "copy-text-x",
        "copy-text-linkedin",
        "copy-text-message",
        "badge-snippet",
        "copy-badge-svg",
        "copy-badge-png",
        "copy-qr-svg",
        "copy-qr-png",
    }
    assert sorted(page.targets) == sorted(page.fields)
    assert page.statuses == len(page.fields)
    assert page.fields["copy-vote-link"] == "http://testserver/sbia/ada-lovelace/"
    assert page.fields["copy-qr-png"] == "http://testserver/sbia/ada-lovelace/qr.png"


def test_the_posts_carry_the_vote_link_each_with_its_own_channel(client, nominee):
    page = fields_of(client.get(stats_path(nominee)).text)
    for channel in ("x", "linkedin", "message"):
        text = page.fields[f"copy-text-{channel}"]
        assert text.endswith(f" http://testserver/sbia/ada-lovelace/?ref={channel}")
        assert "nominated in Experts at the Small Business Influencer Awards" in text
    assert "you can vote once every 24 hours" in page.fields["copy-text-linkedin"]


def test_votes_a_post_brings_are_shown_under_its_channel(client, nominee):
    assert vote_like_a_browser(nominee, data={"ref": "message"}).status_code == 200
    page = client.get(stats_path(nominee)).text
    assert '<th scope="row">Message</th><td class="num">1<' in page


def test_after_the_close_the_posts_stop_asking_for_votes(client, nominee):
    now = timezone.now()
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=now - timedelta(days=30), voting_closes=now - timedelta(hours=1)
    )
    page = fields_of(client.get(stats_path(nominee)).text)
    text = page.fields["copy-text-x"]
    assert text.startswith("Ada Lovelace (@"), text
    assert "is nominated in Experts" in text
    assert "Vote for me" not in text


def test_the_toolkit_is_kept_out_of_search_engines_and_shared_caches(client, nominee):
    response = client.get(stats_path(nominee))
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in response.text


def test_names_in_any_script_reach_the_posts_and_the_badge_code_intact(client, experts):
    li = NomineeFactory(category=experts, name="李娜 Zhang", slug="li-na-zhang")
    page = fields_of(client.get(stats_path(li)).text)
    assert 'alt="Vote for 李娜 Zhang in Experts' in page.fields["badge-snippet"]


def test_the_public_page_keeps_the_voters_journey_without_the_nominees_tools(client, nominee):
    page = client.get(nominee.get_absolute_url()).text
    # The voter's: the vote box, the share sheet and a reminder.
    assert 'id="vote-box"' in page
    assert "data-share-sheet" in page
    assert "Remind me to vote every day" in page
    # The nominee's, now on the toolkit alone.
    for tool in ("badge-snippet", "badge.svg", "badge.png", "qr.svg", "qr.png", "data-copy-target"):
        assert tool not in page, tool
    assert "QR code for print and slides" not in page
