"""The nominee's private stats page: the secret link, the counts per day and channel, and what
it must not reveal."""

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from awards.models import Award, Nominee
from awards.stats_links import STATS_SALT, stats_path, stats_token
from tests.ballots import cast_vote, vote_like_a_browser, voter_somewhere
from tests.factories import NomineeFactory
from voting.models import AuditEntry, Vote
from voting.sharing.stats import DayVotes, nominee_stats, votes_per_channel, votes_per_day
from voting.sharing.stats_views import day_chart, nice_ceiling
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
SVG = re.compile(r"<svg .*?</svg>", re.S)


def vote_for(nominee: Nominee, now: datetime | None = None, ref: str = "") -> None:
    """A counted vote from a returning voter of their own."""
    voter = voter_somewhere()
    result = cast_vote(nominee=nominee, voter=voter, now=now or timezone.now(), ref=ref)
    assert result.counted


def stats_url(nominee: Nominee, token: str | None = None) -> str:
    if token is None:
        return stats_path(nominee)
    return f"/{nominee.award.slug}/{nominee.slug}/stats/{token}/"


def test_the_stats_link_opens_a_private_page(client, nominee):
    vote_for(nominee)
    response = client.get(stats_path(nominee))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in response.text
    assert "Your toolkit, Ada Lovelace" in response.text
    # No canonical link, preview tag or link of the page repeats the secret.
    assert stats_token(nominee) not in response.text
    assert 'rel="canonical"' not in response.text and "og:url" not in response.text


def test_the_link_stays_the_same_until_revoked(nominee):
    assert stats_path(nominee) == stats_path(Nominee.objects.get(pk=nominee.pk))
    assert f"/sbia/ada-lovelace/stats/{stats_token(nominee)}/" == stats_path(nominee)


def tampered(token: str) -> str:
    last = "A" if token[-1] != "A" else "B"
    return token[:-1] + last


@pytest.mark.parametrize(
    "make_token",
    [
        lambda nominee: "nonsense",
        lambda nominee: "a:b:c",
        lambda nominee: tampered(stats_token(nominee)),
        # Right nominee and version, but signed for another purpose.
        lambda nominee: signing.Signer(salt="laurel.other").sign_object({"n": nominee.pk, "v": 1}),
        lambda nominee: signing.Signer(salt=STATS_SALT).sign_object([nominee.pk, 1]),
        lambda nominee: "x" * 5000,
    ],
    ids=["nonsense", "colons", "tampered", "other-salt", "other-shape", "huge"],
)
def test_a_wrong_or_tampered_link_is_a_404(client, nominee, make_token):
    response = client.get(stats_url(nominee, make_token(nominee)))
    assert response.status_code == 404
    assert "This private link doesn't work" in response.text
    assert "Ask the organizers of Small Business Influencer Awards" in response.text
    # Refused links stay out of caches and search engines like working ones.
    assert response["Cache-Control"] == "private, no-store"
    assert '<meta name="robots" content="noindex' in response.text


def test_one_nominees_link_does_not_open_anothers_stats(client, nominee):
    other = NomineeFactory(category=nominee.category, name="Grace Hopper", slug="grace")
    assert client.get(stats_url(other, stats_token(nominee))).status_code == 404
    assert client.get(stats_url(other)).status_code == 200


def test_a_revoked_link_is_a_404_and_the_new_one_works(client, organizer, nominee):
    old = stats_path(nominee)
    client.force_login(organizer)
    response = client.post(
        reverse("admin:awards_nominee_changelist"),
        {"action": "revoke_stats_links", "_selected_action": [str(nominee.pk)], "post": "yes"},
        follow=True,
    )
    assert "Stats links revoked for 1 nominee" in response.text
    nominee.refresh_from_db()
    assert nominee.stats_key_version == 2
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(stats_path(nominee)).status_code == 200
    # Revoking links changes no vote, but it is logged like every bulk action.
    assert AuditEntry.objects.get().action == AuditEntry.Action.REVOKE_STATS


def test_the_admin_shows_the_absolute_link_ready_to_copy(client, organizer, nominee):
    client.force_login(organizer)
    response = client.get(reverse("admin:awards_nominee_change", args=[nominee.pk]))
    assert response.status_code == 200
    link = f"http://testserver{stats_path(nominee)}"
    assert f'readonly value="{link}"' in response.text.replace("&amp;", "&")
    assert "<script>" not in response.text.split("stats link")[-1].split("</fieldset>")[0]


def test_the_admin_add_page_explains_the_link_comes_after_saving(client, organizer, award):
    client.force_login(organizer)
    response = client.get(reverse("admin:awards_nominee_add"))
    assert "Available once the nominee is saved." in response.text


def test_an_inactive_nominees_stats_link_is_a_404(client, nominee):
    url = stats_path(nominee)
    Nominee.objects.filter(pk=nominee.pk).update(is_active=False)
    assert client.get(url).status_code == 404


def local(award: Award, day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=award.zone)


def test_votes_are_counted_per_day_in_the_awards_time_zone(client, nominee):
    award = nominee.award
    today = award.local(timezone.now()).date()
    Award.objects.filter(pk=award.pk).update(
        voting_opens=local(award, today - timedelta(days=4), 0)
    )
    nominee.refresh_from_db()
    day = today - timedelta(days=3)
    # 23:30 in Los Angeles is the next day in UTC: it still belongs to `day`.
    for moment in [local(award, day, 9), local(award, day, 23, 30), local(award, day, 23, 59)]:
        vote_for(nominee, moment)
    vote_for(nominee, local(award, day + timedelta(days=1), 0, 30))
    vote_for(nominee, local(award, day + timedelta(days=2), 12))

    stats = nominee_stats(nominee=nominee, now=timezone.now())
    per_day = {d.day: d.counted for d in stats.days}
    assert per_day == {
        today - timedelta(days=4): 0,
        day: 3,
        day + timedelta(days=1): 1,
        day + timedelta(days=2): 1,
        today: 0,
    }
    assert stats.counted == 5

    page = client.get(stats_path(nominee)).text
    table = page.split("Votes per day as a table")[1]
    assert re.search(rf"{day:%a} {day.day} {day:%b} {day.year}</th><td class=\"num\">3<", table)


def test_votes_are_counted_per_channel_with_direct_for_none(client, nominee):
    for ref in ["linkedin", "linkedin", "twitter", None, "qr"]:
        data = {"ref": ref} if ref else None
        assert vote_like_a_browser(nominee, data=data).status_code == 200

    channels = {c.channel: c.counted for c in votes_per_channel(nominee=nominee)}
    assert channels == {"linkedin": 2, "twitter": 1, "direct": 1, "qr": 1}
    assert votes_per_channel(nominee=nominee)[0].channel == "linkedin"

    page = client.get(stats_path(nominee)).text
    table = page.split("Votes by channel as a table")[1]
    assert '<th scope="row">LinkedIn</th><td class="num">2<' in table
    assert '<th scope="row">Direct</th><td class="num">1<' in table
    assert '<th scope="row">QR code</th><td class="num">1<' in table


def test_each_breakdown_is_one_grouped_query(nominee):
    for ref in ["badge", "email", "", "reminder"]:
        vote_for(nominee, ref=ref)
    with CaptureQueriesContext(connection) as queries:
        votes_per_day(nominee=nominee)
    assert len(queries) == 1
    assert "GROUP BY" in queries[0]["sql"]
    with CaptureQueriesContext(connection) as queries:
        votes_per_channel(nominee=nominee)
    assert len(queries) == 1
    assert "GROUP BY" in queries[0]["sql"]


def test_held_votes_are_shown_apart_without_reasons(client, nominee):
    vote_for(nominee)
    vote_for(nominee)
    held = Vote.objects.filter(nominee=nominee).first()
    Vote.objects.filter(pk=held.pk).update(status=Vote.Status.QUARANTINED, reasons="addr_new")
    voided = NomineeFactory(category=nominee.category)
    vote_for(voided)

    stats = nominee_stats(nominee=nominee, now=timezone.now())
    assert (stats.counted, stats.held) == (1, 1)
    page = client.get(stats_path(nominee)).text
    figures = page.split('class="stats-figures"')[1].split("</dl>")[0]
    assert "<dt>Counted votes</dt><dd>1</dd>" in figures
    assert "<dt>Held for review</dt><dd>1</dd>" in figures
    assert "1 more vote is held for review" in page
    assert "organizers check" in page
    assert "addr_new" not in page


def test_other_nominees_votes_are_not_counted(nominee):
    other = NomineeFactory(category=nominee.category)
    vote_for(other, ref="twitter")
    vote_for(nominee, ref="linkedin")
    stats = nominee_stats(nominee=nominee, now=timezone.now())
    assert stats.counted == 1
    assert [c.channel for c in stats.channels] == ["linkedin"]


def race(nominee):
    rival = NomineeFactory(category=nominee.category, name="Zed Rival", slug="zed")
    for _ in range(3):
        vote_for(rival)
    vote_for(nominee)
    standings_recompute(award_id=nominee.award_id)
    return rival


def test_ranks_show_when_the_award_shows_them(client, nominee):
    race(nominee)
    page = client.get(stats_path(nominee)).text
    assert "#2 in Experts · #2 overall" in page


def test_hidden_standings_stay_hidden_but_the_nominee_sees_its_own_votes(client, nominee):
    rival = race(nominee)
    Award.objects.filter(pk=nominee.award_id).update(standings_visibility=Award.Visibility.HIDDEN)
    page = client.get(stats_path(nominee)).text
    assert "Standings are hidden until the results are published." in page
    assert "#2" not in page and "overall" not in page
    assert rival.name not in page
    figures = page.split('class="stats-figures"')[1].split("</dl>")[0]
    assert "<dd>1</dd>" in figures


def test_the_charts_are_valid_svg_with_accessible_text(client, nominee):
    vote_for(nominee, ref="linkedin")
    vote_for(nominee, ref="linkedin")
    vote_for(nominee)
    page = client.get(stats_path(nominee)).text
    charts = SVG.findall(page)
    assert len(charts) == 2
    for chart in charts:
        root = ET.fromstring(chart)
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img"
        labelled_by = root.get("aria-labelledby").split()
        ids = {element.get("id") for element in root.iter()}
        assert set(labelled_by) <= ids
        assert root.find(f"{ns}title").text
        assert root.find(f"{ns}desc").text
    assert "LinkedIn: 2; Direct: 1." in page
    assert "http" not in "".join(charts).replace("http://www.w3.org/2000/svg", "")


def test_no_votes_yet_shows_no_chart(client, nominee):
    page = client.get(stats_path(nominee)).text
    assert "No counted votes yet" in page
    assert "<svg" not in page


def test_the_stats_page_refuses_to_vote_or_post(client, nominee):
    assert client.post(stats_path(nominee)).status_code == 405


@pytest.mark.parametrize(
    ("most", "top"), [(1, 1), (3, 4), (10, 10), (11, 12), (25, 30), (101, 120), (4001, 5000)]
)
def test_the_day_charts_axis_ends_at_a_round_even_number_above_the_busiest_day(most, top):
    assert nice_ceiling(most) == top


def test_day_bars_stay_inside_the_plot_and_are_labelled(nominee):
    today = timezone.now().date()
    days = [DayVotes(today - timedelta(days=n), n * 3) for n in range(40, -1, -1)]
    chart = day_chart(days)
    assert len(chart["bars"]) == 41
    for bar in chart["bars"]:
        assert chart["left"] <= bar.x and bar.x + bar.width <= chart["right"] + 0.1
        assert bar.y >= 0 and bar.y + bar.height <= chart["baseline"] + 0.1
    assert chart["bars"][0].label.endswith(": 120 votes")
    assert chart["bars"][-1].height == 0
    # Labels thin out so that they do not overlap.
    xs = [label.x for label in chart["labels"]]
    assert all(b - a >= 44 for a, b in itertools.pairwise(xs))
