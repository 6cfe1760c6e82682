"""A vote's answer never waits for the standings: they are refreshed after the response (embedded
mode) or by a worker (real mode), through a real WSGI server as `make run` serves them."""

import html
import http.cookiejar
import json
import re
import threading
import urllib.request

import pytest
from django.http import HttpResponse
from django.test import Client, TestCase, override_settings
from django.urls import path

from laurel.lib.after_response import after_response
from tests.ballots import CHALLENGE, TOKEN, vote_like_a_browser
from voting.ballot.pow import challenge_solve
from voting.models import Vote
from voting.standings import services, tasks


@pytest.fixture
def recompute_blocked(monkeypatch, nominee):
    """Standings, fresh, whose next refreshes wait until the test lets them go (or 20 s), noting
    whether they were let go: one that ran inside the vote's request would hold its answer."""
    release, done, released = threading.Event(), threading.Event(), []
    real = services.standings_recompute
    real(award_id=nominee.award_id)

    def recompute(*, award_id, now=None):
        released.append(release.wait(timeout=20))
        done.set()
        return real(award_id=award_id, now=now)

    monkeypatch.setattr(tasks, "standings_recompute", recompute)
    monkeypatch.setattr(services, "standings_recompute", recompute)
    yield release, done, released
    release.set()


def browser_vote(base_url: str, nominee) -> dict:
    """What vote.js does: open the page, solve its browser check, post the vote as JSON."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page_url = base_url + nominee.get_absolute_url()
    page = opener.open(page_url, timeout=30).read().decode()
    token = html.unescape(TOKEN.search(page).group(1))
    challenge_url = base_url + html.unescape(CHALLENGE.search(page).group(1))
    proof = challenge_solve(json.load(opener.open(challenge_url, timeout=30)))
    body = urllib.parse.urlencode({"token": token, "altcha": proof}).encode()
    request = urllib.request.Request(
        page_url + "vote/",
        data=body,
        headers={"Accept": "application/json", "Origin": base_url},
    )
    return json.load(opener.open(request, timeout=30))


@pytest.mark.django_db(transaction=True)
def test_a_counted_vote_is_answered_while_the_standings_refresh_still_waits(
    live_server, nominee, recompute_blocked
):
    release, done, released = recompute_blocked
    answer = browser_vote(live_server.url, nominee)
    assert answer["counted"], answer
    assert Vote.objects.filter(status="counted").count() == 1
    release.set()
    if done.wait(timeout=20):  # embedded mode: after the response, in the server's thread
        assert released == [True]  # it was still waiting when the answer arrived


def test_a_vote_asks_for_one_standings_refresh_once_answered(
    client, nominee, settings, monkeypatch
):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("real mode: the nudge goes to the broker (test_standings.py)")
    seen = []
    monkeypatch.setattr(tasks, "standings_recompute", lambda **kwargs: seen.append(kwargs))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = vote_like_a_browser(nominee, client, HTTP_ACCEPT="application/json")
    assert response.json()["counted"]
    assert seen == [{"award_id": nominee.award_id}]


def test_outside_a_request_queued_work_runs_at_once():
    ran = []
    after_response(lambda: ran.append(1))
    assert ran == [1]


def test_work_that_fails_after_the_response_is_logged_and_the_answer_stands(db, caplog):
    def view(request):
        after_response(lambda: 1 / 0)
        return HttpResponse("answered")

    urlconf = type("urls", (), {"urlpatterns": [path("t/", view)]})
    with override_settings(ROOT_URLCONF=urlconf):
        response = Client().get("/t/")
    assert response.content == b"answered"
    assert "work queued after a response failed" in caplog.text
    assert re.search("ZeroDivisionError", caplog.text)
