"""Standings: exact, ranked 1-2-2-4, recomputed from pending changes, read as a snapshot."""

import random
import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.ballots import cast_vote, vote_like_a_browser, voter_somewhere
from tests.factories import CategoryFactory, NomineeFactory
from voting.integrity.holds import votes_set_status
from voting.models import Standing, StandingsSnapshot, TallyDelta, Vote
from voting.standings.services import raw_counts, standings_rebuild, standings_recompute

pytestmark = pytest.mark.django_db


def cast(nominee, times: int = 1) -> list[int]:
    ids = []
    for _ in range(times):
        voter = voter_somewhere()
        ids.append(cast_vote(nominee=nominee, voter=voter, now=timezone.now()).vote_id)
    return ids


def standing(nominee) -> Standing:
    return Standing.objects.get(nominee=nominee)


@pytest.fixture
def field(experts):
    """Five experts and two apps, with names chosen so that ties sort visibly."""
    apps = CategoryFactory(award=experts.award, name="Apps", slug="apps")
    names = ["Dora", "Bea", "Cy", "Al", "Eve"]
    people = {name: NomineeFactory(category=experts, name=name) for name in names}
    people |= {name: NomineeFactory(category=apps, name=name) for name in ["Ledgerly", "Invoicy"]}
    return people


def test_ties_share_a_rank_and_the_next_rank_skips(field):
    for name, votes in {"Dora": 5, "Bea": 3, "Cy": 3, "Al": 1, "Eve": 0}.items():
        cast(field[name], votes)
    cast(field["Ledgerly"], 4)
    standings_recompute(award_id=field["Dora"].award_id)
    experts = {
        name: standing(field[name]).category_rank for name in ["Dora", "Bea", "Cy", "Al", "Eve"]
    }
    assert experts == {"Dora": 1, "Bea": 2, "Cy": 2, "Al": 4, "Eve": 5}
    overall = {name: standing(nominee).overall_rank for name, nominee in field.items()}
    assert overall == {"Dora": 1, "Ledgerly": 2, "Bea": 3, "Cy": 3, "Al": 5, "Eve": 6, "Invoicy": 6}


def test_a_tie_is_listed_by_name_then_id(field):
    cast(field["Cy"], 2)
    cast(field["Bea"], 2)
    standings_recompute(award_id=field["Cy"].award_id)
    ordered = Standing.objects.filter(category=field["Cy"].category).order_by("category_position")
    assert [row.nominee.name for row in ordered][:2] == ["Bea", "Cy"]


def test_standings_count_only_counted_votes(field):
    dora = field["Dora"]
    ids = cast(dora, 5)
    votes_set_status(vote_ids=ids[:1], status=Vote.Status.VOID)
    votes_set_status(vote_ids=ids[1:3], status=Vote.Status.QUARANTINED)
    standings_recompute(award_id=dora.award_id)
    assert standing(dora).votes == 2


def test_votes_voided_after_a_recompute_drop_out_at_the_next(field):
    dora = field["Dora"]
    ids = cast(dora, 4)
    standings_recompute(award_id=dora.award_id)
    assert standing(dora).votes == 4
    votes_set_status(vote_ids=ids[:3], status=Vote.Status.VOID)
    votes_set_status(vote_ids=ids[:3], status=Vote.Status.VOID)  # repeating changes nothing
    standings_recompute(award_id=dora.award_id)
    assert standing(dora).votes == 1
    votes_set_status(vote_ids=ids[:2], status=Vote.Status.COUNTED)
    standings_recompute(award_id=dora.award_id)
    assert standing(dora).votes == 3


def test_a_recompute_folds_only_the_changes_since_the_last_one(field):
    dora = field["Dora"]
    cast(dora, 3)
    first = standings_recompute(award_id=dora.award_id)
    second = standings_recompute(award_id=dora.award_id)
    cast(dora, 2)
    third = standings_recompute(award_id=dora.award_id)
    assert (first.folded_deltas, second.folded_deltas, third.folded_deltas) == (3, 0, 2)
    assert second.changed_rows == 0
    assert not TallyDelta.objects.exists()
    assert StandingsSnapshot.objects.get(award=dora.award).total_votes == 5


def test_inactive_nominees_are_unranked_but_keep_their_count(field):
    dora = field["Dora"]
    cast(dora, 2)
    dora.is_active = False
    dora.save()
    standings_recompute(award_id=dora.award_id)
    row = standing(dora)
    assert (row.votes, row.overall_rank, row.category_rank) == (2, None, None)


def test_a_nominee_moved_to_another_category_is_ranked_there(field):
    dora = field["Dora"]
    cast(dora, 9)
    standings_recompute(award_id=dora.award_id)
    dora.category = field["Ledgerly"].category
    dora.save()
    standings_recompute(award_id=dora.award_id)
    row = standing(dora)
    assert (row.category_id, row.category_rank) == (dora.category_id, 1)


def test_after_any_load_standings_equal_a_raw_count(field):
    rng = random.Random(7)
    nominees = list(field.values())
    ids = []
    for round_number in range(5):
        for _ in range(60):
            ids += cast(rng.choice(nominees))
        votes_set_status(vote_ids=rng.sample(ids, 10), status=rng.choice(list(Vote.Status)))
        if round_number % 2:
            standings_recompute(award_id=nominees[0].award_id)
    standings_recompute(award_id=nominees[0].award_id)
    shown = dict(Standing.objects.values_list("nominee_id", "votes"))
    counts = raw_counts(award_id=nominees[0].award_id)
    assert {n: v for n, v in shown.items() if v} == counts


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_from_scratch_agrees_with_the_incremental_standings(field):
    for name, votes in {"Dora": 4, "Bea": 2, "Ledgerly": 3}.items():
        cast(field[name], votes)
    standings_recompute(award_id=field["Dora"].award_id)
    before = dict(Standing.objects.values_list("nominee_id", "votes"))
    standings_rebuild(award_id=field["Dora"].award_id)
    assert dict(Standing.objects.values_list("nominee_id", "votes")) == before


def test_recomputing_an_award_that_no_longer_exists_does_nothing(db):
    assert standings_recompute(award_id=987654) is None


@pytest.mark.django_db(transaction=True)
def test_two_recomputes_at_once_give_the_same_snapshot(field):
    nominees = list(field.values())
    rng = random.Random(3)
    for _ in range(150):
        cast(rng.choice(nominees))
    start = threading.Barrier(2)

    def recompute():
        try:
            start.wait()
            standings_recompute(award_id=nominees[0].award_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=recompute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shown = {n: v for n, v in Standing.objects.values_list("nominee_id", "votes") if v}
    assert shown == raw_counts(award_id=nominees[0].award_id)
    assert StandingsSnapshot.objects.get().total_votes == 150
    assert not TallyDelta.objects.exists()


def test_reading_standings_never_counts_votes(client, field):
    cast(field["Dora"], 3)
    standings_recompute(award_id=field["Dora"].award_id)
    award = field["Dora"].award
    vote_table = Vote._meta.db_table
    urls = [
        award.get_absolute_url(),
        f"/{award.slug}/standings/",
        f"/{award.slug}/standings/experts/",
        f"/api/{award.slug}/standings/",
        f"/api/{award.slug}/standings/experts/",
        f"/api/{award.slug}/nominees/{field['Dora'].slug}/",
        field["Dora"].get_absolute_url(),
    ]
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert not [q["sql"] for q in queries if f'"{vote_table}"' in q["sql"]], url


def test_pages_say_how_fresh_the_standings_are(client, field):
    standings_recompute(award_id=field["Dora"].award_id, now=timezone.now() - timedelta(seconds=8))
    response = client.get(f"/{field['Dora'].award.slug}/standings/")
    assert "Updated" in response.text
    assert "ago" in response.text


def test_a_burst_of_votes_asks_for_one_recompute(field, monkeypatch, settings):
    from voting.standings import tasks

    settings.STANDINGS_NUDGE_SECONDS = 60
    sent = []
    monkeypatch.setattr(
        tasks.standings_recompute_task, "apply_async", lambda *a, **kw: sent.append((a, kw))
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        cast(field["Dora"], 100)
    assert len(sent) == 1
    assert sent[0][0] == ((field["Dora"].award_id,),)
    assert sent[0][1]["retry"] is False


def test_a_broken_broker_never_fails_a_vote(field, monkeypatch):
    from voting.standings import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.standings_recompute_task, "apply_async", broker_down)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert all(cast(field["Dora"], 3))
    assert Vote.objects.count() == 3


def test_embedded_mode_refreshes_standings_in_process_after_a_vote(
    client, field, settings, django_capture_on_commit_callbacks
):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("real mode: a Celery worker recomputes (test_standings_worker.py)")
    dora = field["Dora"]
    with django_capture_on_commit_callbacks(execute=True):
        assert vote_like_a_browser(dora, client).status_code == 200
    page = client.get(dora.get_absolute_url())
    assert "#1 in Experts" in page.text
    assert "1 vote" in page.text


def test_embedded_mode_refreshes_stale_standings_when_a_page_reads_them(client, field, settings):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("real mode: the beat refreshes standings (test_standings_worker.py)")
    standings_recompute(award_id=field["Dora"].award_id, now=timezone.now() - timedelta(hours=1))
    response = client.get(f"/{field['Dora'].award.slug}/standings/")
    assert re.search(r"Updated <time[^>]*>\d+ seconds? ago</time>", response.text)


def test_freshness_reads_in_seconds_under_a_minute(client, field, settings):
    settings.STANDINGS_REFRESH_SECONDS = 3600
    standings_recompute(award_id=field["Dora"].award_id, now=timezone.now() - timedelta(seconds=8))
    response = client.get(f"/{field['Dora'].award.slug}/standings/")
    assert re.search(r"Updated <time[^>]*>(8|9) seconds ago</time>", response.text)
