"""The share link and its Vote button, over HTTP."""

import json
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from awards.models import Award
from tests.ballots import READING_TIME, clock_at, solved_form, vote_like_a_browser
from tests.factories import NomineeFactory
from voting.ballot.views import OUTCOME_COOKIE
from voting.ballot.voters import COOKIE_NAME
from voting.models import Vote

pytestmark = pytest.mark.django_db
CRAWLERS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0",
]


def vote_url(nominee) -> str:
    return nominee.get_absolute_url() + "vote/"


def box(page) -> str:
    """The page before its <template>s, which hold every common outcome for JavaScript."""
    return page.text.split("<template", 1)[0]


def test_nominee_page_is_a_short_human_readable_share_link(nominee):
    assert nominee.get_absolute_url() == "/sbia/ada-lovelace/"


def test_nominee_page_shows_one_vote_button_in_a_post_form(client, nominee):
    response = client.get(nominee.get_absolute_url())
    assert response.status_code == 200
    assert response.text.count("data-vote-form") == 1
    form = response.text.split("data-vote-form", 1)[1].split("</form>", 1)[0]
    assert form.count('type="submit"') == 1
    assert 'method="post" action="/sbia/ada-lovelace/vote/"' in response.text
    # The one-time token is the form's protection against other sites (test_vote_origin.py).
    assert 'name="token"' in form
    assert "Vote for Ada Lovelace" in response.text


def test_first_visit_sets_a_long_lived_signed_voter_cookie(client, nominee):
    response = client.get(nominee.get_absolute_url())
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["max-age"] >= 365 * 24 * 3600
    assert cookie["httponly"]
    assert ":" in cookie.value  # signed


def test_a_click_counts_and_says_when_to_vote_again(client, nominee):
    response = vote_like_a_browser(nominee, client)
    assert response.redirect_chain == [("/sbia/ada-lovelace/", 303)]
    assert response.status_code == 200
    assert "Your vote for Ada Lovelace counts." in box(response)
    assert "You can vote for Ada Lovelace again" in box(response)
    assert "Help Ada Lovelace win: share this page." in response.text
    assert Vote.objects.filter(nominee=nominee).count() == 1


def test_a_second_click_explains_why_it_did_not_count(client, nominee):
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        client.post(vote_url(nominee), fields, follow=True)
        response = client.post(vote_url(nominee), fields, follow=True)
    assert response.redirect_chain == [("/sbia/ada-lovelace/", 303)]
    assert "Not counted: you already voted for Ada Lovelace recently." in box(response)
    assert "every 24 hours" in response.text
    assert "data-countdown" in box(response)
    assert Vote.objects.count() == 1


def test_a_form_vote_redirects_so_that_a_refresh_never_votes_again(client, nominee):
    fields = solved_form(client.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        response = client.post(vote_url(nominee), fields)
    assert response.status_code == 303
    assert response["Location"] == "/sbia/ada-lovelace/"
    landed = client.get(response["Location"])
    assert "Your vote for Ada Lovelace counts." in box(landed)
    refreshed = client.get(response["Location"])
    # Shown once (the page's <template>s for JavaScript carry it too, unused).
    assert "Your vote for Ada Lovelace counts." not in box(refreshed)
    assert "You've voted for Ada Lovelace." in refreshed.text
    assert Vote.objects.count() == 1


def test_the_outcome_is_shown_only_on_its_own_nominees_page(client, nominee):
    other = NomineeFactory(category=nominee.category, slug="grace-hopper")
    vote_like_a_browser(nominee, client)
    fields = solved_form(client.get(other.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        response = client.post(vote_url(other), fields)
    assert response.cookies[OUTCOME_COOKIE]["path"] == "/sbia/grace-hopper/"
    assert response.cookies[OUTCOME_COOKIE]["max-age"] <= 60
    # Django's test client sends every cookie whatever its path, as a careless browser might.
    page = client.get(nominee.get_absolute_url())
    assert "Your vote for" not in box(page)


# Named ids: the signed value carries a timestamp, and pytest-xdist's workers, collecting a
# second apart, must name the same tests.
@pytest.mark.parametrize(
    "value",
    ["forged", "a:b:c", signing.dumps({"n": 1}, salt="other")],
    ids=["plain", "three-parts", "signed-for-another-purpose"],
)
def test_a_forged_outcome_cookie_is_ignored(client, nominee, value):
    client.cookies[OUTCOME_COOKIE] = value
    page = client.get(nominee.get_absolute_url())
    assert page.status_code == 200
    assert 'data-outcome="' not in box(page)
    assert "data-vote-form" in page.text


def test_a_refused_vote_redirects_with_its_channel_and_a_fresh_form(client, nominee):
    client.get(nominee.get_absolute_url())
    response = client.post(vote_url(nominee), {"ref": "whatsapp"})
    assert response.status_code == 303
    assert response["Location"] == "/sbia/ada-lovelace/?ref=whatsapp"
    page = client.get(response["Location"])
    assert "Please confirm your vote: it has not been counted yet." in page.text
    assert "Confirm my vote for Ada Lovelace" in page.text
    assert 'name="ref" value="whatsapp"' in page.text
    with clock_at(timezone.now() + READING_TIME):
        client.post(vote_url(nominee), solved_form(page) | {"ref": "whatsapp"})
    assert Vote.objects.get().ref == "whatsapp"


def test_returning_to_the_page_shows_the_countdown_instead_of_the_button(client, nominee):
    vote_like_a_browser(nominee, client)
    response = client.get(nominee.get_absolute_url())
    assert "You've voted for Ada Lovelace." in response.text
    assert "data-countdown" in box(response)
    assert "data-vote-form" not in response.text


def test_javascript_votes_get_a_few_bytes_of_json(client, nominee):
    page = client.get(nominee.get_absolute_url())
    assert 'id="vote-template-counted"' in page.text
    assert 'id="vote-template-already_voted"' in page.text
    fields = solved_form(page)
    with clock_at(timezone.now() + READING_TIME):
        response = client.post(vote_url(nominee), fields, HTTP_ACCEPT="application/json")
        again = client.post(vote_url(nominee), fields, HTTP_ACCEPT="application/json")
    data = json.loads(response.content)
    assert response.status_code == 200
    assert (data["outcome"], data["counted"], data["nominee"]) == ("counted", True, "Ada Lovelace")
    assert data["next_vote_at"]
    assert len(response.content) < 300
    assert again.status_code == 409
    assert json.loads(again.content)["outcome"] == "already_voted"
    assert json.loads(again.content)["next_vote_at"] == data["next_vote_at"]


def test_rare_json_answers_carry_their_own_markup(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=timezone.now() - timedelta(days=10),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    response = client.post(vote_url(nominee), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert "Not counted: voting has closed." in response.json()["html"]


def test_share_channel_is_recorded_from_ref(client, nominee):
    page = client.get(nominee.get_absolute_url(), {"ref": "linkedin"})
    assert 'name="ref" value="linkedin"' in page.text
    vote_like_a_browser(nominee, client, data={"ref": "linkedin"})
    assert Vote.objects.get().ref == "linkedin"


def test_a_malformed_ref_is_dropped_not_stored(client, nominee):
    vote_like_a_browser(nominee, client, data={"ref": "<script>alert(1)</script>"})
    assert Vote.objects.get().ref == ""


@pytest.mark.parametrize("agent", CRAWLERS)
@pytest.mark.parametrize("query", ["", "?vote=1", "?ref=twitter&action=vote"])
def test_link_preview_crawlers_never_record_a_vote(client, nominee, agent, query):
    for url in (nominee.get_absolute_url() + query, vote_url(nominee) + query):
        assert client.get(url, HTTP_USER_AGENT=agent).status_code in (200, 302)
        assert client.head(url, HTTP_USER_AGENT=agent).status_code in (200, 302)
    assert not Vote.objects.exists()


def test_get_on_the_vote_address_lands_on_the_nominee_page(client, nominee):
    response = client.get(vote_url(nominee))
    assert response.status_code == 302
    assert response["Location"] == nominee.get_absolute_url()


def test_other_methods_are_refused(client, nominee):
    assert client.put(vote_url(nominee)).status_code == 405
    assert not Vote.objects.exists()


def test_a_post_without_the_csrf_token_gets_laurels_403_page(nominee):
    strict = Client(enforce_csrf_checks=True)
    strict.get(nominee.get_absolute_url())
    response = strict.post(vote_url(nominee))
    assert response.status_code == 403
    assert "Nothing was recorded" in response.text
    assert "Laurel" in response.text
    assert not Vote.objects.exists()


def test_a_post_with_the_csrf_token_counts(nominee):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(nominee.get_absolute_url())
    fields = {"csrfmiddlewaretoken": str(page.context["csrf_token"]), **solved_form(page)}
    with clock_at(timezone.now() + READING_TIME):
        response = strict.post(vote_url(nominee), fields, follow=True)
    assert response.status_code == 200
    assert "Your vote for Ada Lovelace counts." in box(response)
    assert Vote.objects.count() == 1


def test_an_oversized_body_is_refused_with_413(client, nominee):
    response = client.post(vote_url(nominee), {"ref": "x" * 10_000})
    assert response.status_code == 413
    assert "too large" in response.text
    assert not Vote.objects.exists()


def test_a_huge_body_is_refused_with_400(client, nominee, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    response = client.post(vote_url(nominee), {"ref": "x" * 6000})
    assert response.status_code in (400, 413)
    assert not Vote.objects.exists()


def test_a_malformed_body_is_refused_without_recording(client, nominee):
    response = client.generic(
        "POST",
        vote_url(nominee),
        data=b"\xff\xfe%%%=&&==",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="not-a-number",
    )
    assert response.status_code in (400, 413)
    assert not Vote.objects.exists()


def test_unknown_nominee_vote_is_a_404(client, nominee):
    response = client.post("/sbia/nobody/vote/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.text


def test_inactive_nominee_cannot_receive_votes(client, nominee):
    nominee.is_active = False
    nominee.save()
    assert client.post(vote_url(nominee)).status_code == 404
    assert not Vote.objects.exists()


def test_closed_voting_shows_the_dates_in_the_awards_zone(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=timezone.now() - timedelta(days=10),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    response = client.post(vote_url(nominee), follow=True)
    assert response.redirect_chain == [("/sbia/ada-lovelace/", 303)]
    assert "Not counted: voting has closed." in response.text
    assert "PST" in response.text or "PDT" in response.text
    assert not Vote.objects.exists()


def test_voting_not_yet_open_says_when_it_opens(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=timezone.now() + timedelta(days=1),
        voting_closes=timezone.now() + timedelta(days=10),
    )
    page = client.get(nominee.get_absolute_url())
    assert "Voting opens" in page.text
    assert "data-vote-form" not in page.text
    response = client.post(vote_url(nominee), follow=True)
    assert "Not counted: voting hasn't opened yet." in response.text
    assert not Vote.objects.exists()


def test_a_tampered_voter_cookie_gets_a_fresh_voter(client, nominee):
    vote_like_a_browser(nominee, client)
    client.cookies[COOKIE_NAME] = "f" * 32 + ":forged:signature"
    response = vote_like_a_browser(nominee, client)
    assert response.status_code == 200
    keys = set(Vote.objects.values_list("voter_key", flat=True))
    assert len(keys) == 2
    assert "f" * 32 not in keys


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--no-boundary\r\ngarbage"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: broken\r\n\r\n"),
        ("application/x-www-form-urlencoded", b"%zz=%%%&ref=\xff\xfe"),
    ],
)
def test_malformed_bodies_never_cause_a_500(nominee, content_type, body):
    strict = Client(enforce_csrf_checks=True, raise_request_exception=False)
    strict.get(nominee.get_absolute_url())
    response = strict.generic("POST", vote_url(nominee), data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert not Vote.objects.exists()
