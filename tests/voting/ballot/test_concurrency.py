"""Fifty simultaneous clicks from one voter record exactly one vote, on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from awards.models import Award, Nominee
from tests.ballots import READING_TIME, cast_vote, clock_at, solved_form
from tests.factories import NomineeFactory
from voting.ballot.voters import COOKIE_NAME
from voting.models import Vote
from voting.vocabulary import Voter

CLICKS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_posts_from_one_voter_record_one_vote(nominee):
    seed = Client()
    fields = solved_form(seed.get(nominee.get_absolute_url()))
    cookie = seed.cookies[COOKIE_NAME].value
    start = threading.Barrier(CLICKS)

    def click(_):
        browser = Client()
        browser.cookies[COOKIE_NAME] = cookie
        start.wait()
        try:
            url = nominee.get_absolute_url() + "vote/"
            return browser.post(url, fields, HTTP_ACCEPT="application/json").status_code
        finally:
            connection.close()

    with clock_at(timezone.now() + READING_TIME), ThreadPoolExecutor(CLICKS) as pool:
        statuses = list(pool.map(click, range(CLICKS)))

    assert sorted(set(statuses)) == [200, 409]
    assert statuses.count(200) == 1
    assert Vote.objects.filter(nominee=nominee).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_in_one_category_scope_count_once(nominee):
    Award.objects.filter(pk=nominee.award_id).update(vote_scope=Award.Scope.CATEGORY)
    others = NomineeFactory.create_batch(9, category=nominee.category)
    targets = [nominee, *others] * 3
    voter = Voter(key="c" * 32, ip="203.0.113.50", user_agent="race")
    start = threading.Barrier(len(targets))

    def cast(target_id):
        try:
            target = Nominee.objects.select_related("award").get(pk=target_id)
            start.wait()
            return cast_vote(nominee=target, voter=voter, now=timezone.now()).counted
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        results = list(pool.map(cast, [t.pk for t in targets]))

    assert results.count(True) == 1
    assert Vote.objects.filter(voter_key=voter.key).count() == 1
