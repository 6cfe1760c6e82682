"""The nominee page's share sheet and its suggestions after a vote, as the server renders them."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from awards.models import Award, Nominee
from tests.ballots import (
    READING_TIME,
    cast_vote,
    clock_at,
    solved_form,
    vote_like_a_browser,
    voter_at,
)
from tests.factories import CategoryFactory, NomineeFactory
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
PAGE = "http://testserver/sbia/ada-lovelace/"
TEXT = (
    "Vote for Ada Lovelace (@ada) in Experts at the Small Business Influencer Awards"
    " — you can vote every 24 hours"
)
LINK = re.compile(r'<a href="([^"]+)" data-ref="([a-z]+)"')


@pytest.fixture
def ada(nominee):
    Nominee.objects.filter(pk=nominee.pk).update(twitter_handle="ada")
    nominee.refresh_from_db()
    return nominee


def share_links(page) -> dict[str, str]:
    return {ref: html.unescape(href) for href, ref in LINK.findall(page.text)}


def query(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}


def sheet(page) -> str:
    return page.text.split("data-share-sheet", 1)[1].split("</section>", 1)[0]


def test_anyone_sees_the_share_sheet_before_voting(client, ada):
    page = client.get(ada.get_absolute_url())
    assert "data-vote-form" in page.text
    assert "Help Ada Lovelace win: share this page." in page.text
    assert set(share_links(page)) == {"x", "facebook", "linkedin", "whatsapp", "email", "sms"}


def test_each_channel_links_back_with_its_own_ref(client, ada):
    links = share_links(client.get(ada.get_absolute_url()))
    assert query(links["x"]) == {"text": TEXT, "url": PAGE + "?ref=x"}
    assert urlsplit(links["x"]).netloc == "x.com"
    assert query(links["facebook"]) == {"u": PAGE + "?ref=facebook"}
    assert query(links["linkedin"]) == {"url": PAGE + "?ref=linkedin"}
    assert query(links["whatsapp"]) == {"text": f"{TEXT} {PAGE}?ref=whatsapp"}
    assert links["email"].startswith("mailto:?")
    assert query(links["email"]) == {
        "subject": "Vote for Ada Lovelace in Experts",
        "body": f"{TEXT}\n\n{PAGE}?ref=email",
    }
    assert links["sms"].startswith("sms:?&body=")
    assert query(links["sms"]) == {"body": f"{TEXT} {PAGE}?ref=sms"}


def test_shared_links_are_url_encoded_once_and_spaces_are_not_plus_signs(client, ada):
    raw = dict((ref, href) for href, ref in LINK.findall(client.get(ada.get_absolute_url()).text))
    x = html.unescape(raw["x"])
    assert "url=http%3A%2F%2Ftestserver%2Fsbia%2Fada-lovelace%2F%3Fref%3Dx" in x
    assert "Vote%20for%20Ada%20Lovelace%20%28%40ada%29" in x
    assert "%E2%80%94" in x  # the dash, as UTF-8
    assert "+" not in html.unescape(raw["email"])
    assert "&amp;" in raw["x"]  # and escaped once more for HTML


def test_copy_and_the_system_share_sheet_carry_their_own_refs(client, ada):
    text = sheet(client.get(ada.get_absolute_url()))
    assert f'value="{PAGE}?ref=copy"' in text
    assert f'data-share-url="{PAGE}?ref=share"' in text
    assert f'data-share-text="{TEXT}"' in text
    # Both need JavaScript (static/js/share-sheet.js), so they start hidden.
    assert re.search(r"<button[^>]*data-share-native hidden>Share…</button>", text)
    assert re.search(r"<button[^>]*data-share-copy hidden>Copy</button>", text)


def test_a_nominee_without_a_handle_is_shared_by_name_alone(client, nominee):
    Nominee.objects.filter(pk=nominee.pk).update(twitter_handle="")
    links = share_links(client.get(nominee.get_absolute_url()))
    assert query(links["x"])["text"].startswith("Vote for Ada Lovelace in Experts at the")


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"vote_interval": timedelta(hours=12)}, "you can vote every 12:00:00"),
        (
            {"interval_kind": Award.IntervalKind.CALENDAR_DAY},
            "you can vote every day (the day starts at midnight America/Los_Angeles time)",
        ),
    ],
)
def test_the_message_states_the_awards_own_rule(client, nominee, changes, rule):
    Award.objects.filter(pk=nominee.award_id).update(**changes)
    page = client.get(nominee.get_absolute_url())
    assert query(share_links(page)["x"])["text"].endswith(rule)
    assert rule.removeprefix("you can vote every ") in page.text  # as the vote box says it


def test_an_award_named_the_something_is_not_the_the(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(name="The Golden Laurels")
    text = query(share_links(client.get(nominee.get_absolute_url()))["x"])["text"]
    assert " at The Golden Laurels — " in text


def test_the_share_sheet_has_no_inline_handlers_or_third_party_scripts(client, ada):
    page = client.get(ada.get_absolute_url()).text
    assert not re.search(r"\son[a-z]+=", page)
    assert not re.search(r"<script(?![^>]*src=\"/static/)", page)
    assert re.search(
        r'<script src="/static/js/share-sheet(\.[0-9a-f]{12})?\.js" defer></script>', page
    )


def test_after_voting_closes_the_sheet_shares_the_nomination_without_the_rule(client, ada):
    Award.objects.filter(pk=ada.award_id).update(
        voting_opens=timezone.now() - timedelta(days=10),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    page = client.get(ada.get_absolute_url())
    assert "Share Ada Lovelace's nomination." in html.unescape(page.text)
    text = query(share_links(page)["x"])["text"]
    assert (
        text
        == "Ada Lovelace (@ada) is nominated in Experts at the Small Business Influencer Awards."
    )


def publish_results(nominee, votes: dict) -> None:
    """Votes for each nominee, then voting closes and the results are published."""
    now = timezone.now()
    for index, (someone, count) in enumerate(votes.items()):
        for n in range(count):
            cast_vote(nominee=someone, voter=voter_at(f"198.51.{index}.{n + 1}"), now=now)
    standings_recompute(award_id=nominee.award_id)
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=now - timedelta(days=10),
        voting_closes=now - timedelta(days=1),
        results_published_at=now - timedelta(hours=1),
        finalists_per_category=2,
    )


def test_once_results_are_published_the_winner_is_asked_to_share_their_win(client, ada):
    runner_up = NomineeFactory(category=ada.category, name="Grace Hopper", slug="grace-hopper")
    third = NomineeFactory(category=ada.category, name="Hedy Lamarr", slug="hedy-lamarr")
    publish_results(ada, {ada: 3, runner_up: 2, third: 1})

    page = client.get(ada.get_absolute_url())
    assert "Share your win: Ada Lovelace won Experts." in page.text
    assert 'class="share-sheet share-win"' in page.text
    links = share_links(page)
    text = "Ada Lovelace (@ada) won Experts at the Small Business Influencer Awards!"
    assert query(links["x"]) == {"text": text, "url": PAGE + "?ref=x"}
    assert "every 24 hours" not in sheet(page)

    finalist = client.get(runner_up.get_absolute_url())
    assert "Share your win: Grace Hopper is a finalist in Experts." in finalist.text
    also_ran = client.get(third.get_absolute_url())
    assert "Share your win" not in also_ran.text
    assert "Share Hedy Lamarr's nomination." in html.unescape(also_ran.text)
    assert query(share_links(also_ran)["x"])["text"].startswith("Hedy Lamarr (@")
    assert " was nominated in Experts at the " in query(share_links(also_ran)["x"])["text"]


def test_after_a_vote_the_voter_is_offered_other_nominees_of_the_category(client, nominee):
    others = [
        NomineeFactory(category=nominee.category, name=f"Other {n}", slug=f"other-{n}")
        for n in range(5)
    ]
    elsewhere = NomineeFactory(category=CategoryFactory(award=nominee.award), slug="elsewhere")
    page = vote_like_a_browser(nominee, client)
    steps = page.text.split("data-next-steps", 1)[1].split("</div>", 1)[0]
    suggested = re.findall(r'<li><a href="/sbia/([a-z0-9-]+)/">', steps)
    assert len(suggested) == 3
    assert set(suggested) <= {other.slug for other in others}
    assert elsewhere.slug not in steps and nominee.slug not in suggested
    assert 'href="/sbia/standings/experts/">See the Experts standings</a>' in steps
    assert 'href="/sbia/categories/experts/">All nominees in Experts</a>' in steps
    assert 'href="#share">Share Ada Lovelace\'s page</a>' in steps


def test_already_voted_also_suggests_the_next_vote(client, nominee):
    NomineeFactory(category=nominee.category, slug="other")
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        client.post(nominee.get_absolute_url() + "vote/", fields, follow=True)
        again = client.post(nominee.get_absolute_url() + "vote/", fields, follow=True)
    shown = again.text.split("<template", 1)[0]  # the page's <template>s hold every outcome
    assert "Not counted: you already voted" in shown
    assert "Vote for others in Experts too:" in shown
    assert 'href="/sbia/other/"' in again.text


def test_with_one_vote_per_category_the_next_votes_are_in_other_categories(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(vote_scope=Award.Scope.CATEGORY)
    NomineeFactory(category=nominee.category, slug="same-category")
    CategoryFactory(award=nominee.award, name="Creators", slug="creators")
    page = vote_like_a_browser(nominee, client)
    assert "Vote for others" not in page.text
    assert "Vote in another category:" in page.text
    assert 'href="/sbia/categories/creators/">Creators</a>' in page.text
    assert 'href="/sbia/same-category/"' not in page.text


def test_with_one_vote_per_award_only_the_standings_are_suggested(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(vote_scope=Award.Scope.AWARD)
    NomineeFactory(category=nominee.category, slug="same-category")
    page = vote_like_a_browser(nominee, client)
    steps = page.text.split("data-next-steps", 1)[1].split("</div>", 1)[0]
    assert "Vote for others" not in steps and "another category" not in steps
    assert "See the Experts standings" in steps


def test_hidden_standings_are_not_suggested(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(standings_visibility=Award.Visibility.HIDDEN)
    page = vote_like_a_browser(nominee, client)
    assert "What next?" in page.text
    assert "See the Experts standings" not in page.text


def test_the_javascript_templates_carry_the_suggestions(client, nominee):
    NomineeFactory(category=nominee.category, slug="other")
    page = client.get(nominee.get_absolute_url()).text
    for outcome in ("counted", "already_voted"):
        template = page.split(f'id="vote-template-{outcome}">', 1)[1].split("</template>", 1)[0]
        assert 'href="/sbia/other/"' in template
        assert "See the Experts standings" in template


def test_a_page_suggests_the_same_nominees_wherever_it_shows_them(client, nominee):
    NomineeFactory.create_batch(6, category=nominee.category)
    vote_like_a_browser(nominee, client)
    page = client.get(nominee.get_absolute_url()).text
    lists = re.findall(r'<ul class="next-nominees">(.*?)</ul>', page, re.S)
    assert len(lists) == 3  # the box and the two <template>s
    assert len(set(lists)) == 1
