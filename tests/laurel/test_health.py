"""/healthz: 200 when a vote can be recorded and counted, 503 with the reason when not."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from laurel.celery import app
from voting.models import StandingsSnapshot
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db


def json_text(response) -> str:
    return response.content.decode()


def standings_recompute_all() -> None:
    from awards.models import Award

    for award_id in Award.objects.values_list("id", flat=True):
        standings_recompute(award_id=award_id)


def health() -> tuple[int, dict[str, str]]:
    response = Client().get("/healthz", HTTP_ACCEPT="application/json")
    return response.status_code, response.json()


def failures(report: dict[str, str]) -> dict[str, str]:
    return {check: status for check, status in report.items() if status != "OK"}


@contextmanager
def read_only_database():
    """The database as a read-only replica, or one out of disk, answers: SELECT works, writes fail."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Undone when the test's transaction rolls back.
            cursor.execute("SET TRANSACTION READ ONLY")
            yield
        else:
            cursor.execute("PRAGMA query_only = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA query_only = OFF")


def test_it_answers_200_when_everything_a_vote_needs_works(award, nominee):
    standings_recompute(award_id=award.pk)
    status, report = health()
    assert status == 200, report
    assert set(report) == {
        "DatabaseWrite()",
        "Cache(alias='default')",
        "Broker()",
        "StandingsFresh()",
    }
    assert failures(report) == {}


def test_it_is_503_when_the_database_cannot_take_writes(award):
    with read_only_database():
        status, report = health()
    assert status == 503
    assert report["DatabaseWrite()"] == "Unavailable: The database refused a write"


def test_it_is_503_when_an_open_awards_standings_are_stale(award, settings):
    # As in real mode, where a beat recomputes and a page never does.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    standings_recompute(award_id=award.pk)
    StandingsSnapshot.objects.filter(award=award).update(
        computed_at=timezone.now() - timedelta(seconds=settings.STANDINGS_STALE_SECONDS + 5)
    )
    status, report = health()
    assert status == 503
    assert failures(report) == {
        "StandingsFresh()": "Unavailable: Standings not recomputed for over 60 s: sbia"
    }


def test_an_award_that_just_opened_is_not_stale_before_its_first_recompute(award, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    award.voting_opens = timezone.now() - timedelta(seconds=10)
    award.save()
    assert health()[0] == 200


def test_closed_awards_are_not_watched(award, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    award.voting_opens = timezone.now() - timedelta(days=30)
    award.voting_closes = timezone.now() - timedelta(days=1)
    award.save()
    assert health()[0] == 200


def test_embedded_mode_recomputes_stale_standings_as_its_missing_beat_would(award, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    standings_recompute(award_id=award.pk)
    StandingsSnapshot.objects.filter(award=award).update(
        computed_at=timezone.now() - timedelta(hours=1)
    )
    assert health()[0] == 200
    assert StandingsSnapshot.objects.get(award=award).computed_at > timezone.now() - timedelta(
        minutes=1
    )


def test_it_is_503_when_the_broker_is_unreachable(award, monkeypatch):
    standings_recompute(award_id=award.pk)
    for name in ("broker_url", "broker_write_url"):  # Celery 5.6 keeps both
        monkeypatch.setattr(app.conf, name, "redis://127.0.0.1:1/0")  # nothing listens
    status, report = health()
    assert status == 503
    assert failures(report) == {"Broker()": "Unavailable: The Celery broker is unreachable"}


def test_plain_text_for_load_balancers_and_people(award):
    standings_recompute(award_id=award.pk)
    response = Client().get("/healthz", HTTP_ACCEPT="text/plain")
    assert response.status_code == 200
    assert "DatabaseWrite(): OK" in response.text
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.fixture
def fresh_public_result():
    from laurel import health

    health._public_result.clear()
    yield
    health._public_result.clear()


PUBLIC = {"HTTP_X_FORWARDED_FOR": "198.51.100.23"}  # through the proxy: the public


def test_the_public_gets_the_status_alone(fresh_public_result):
    standings_recompute_all()
    response = Client().get("/healthz", HTTP_ACCEPT="application/json", **PUBLIC)
    assert response.json() == {"status": "ok"}
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_a_failing_check_is_a_503_for_the_public_without_naming_it(fresh_public_result):
    with read_only_database():
        response = Client().get("/healthz", **PUBLIC)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_a_flood_of_public_requests_runs_the_checks_once_and_is_refused_past_its_rate(
    fresh_public_result,
):
    from django.test.utils import CaptureQueriesContext

    browser = Client()
    with CaptureQueriesContext(connection) as queries:
        answers = [browser.get("/healthz", **PUBLIC).status_code for _ in range(70)]
    writes = [q for q in queries if "django_session" in q["sql"] and "INSERT" in q["sql"]]
    assert len(writes) <= 1
    assert answers.count(429) == 10


def test_a_scraper_with_the_metrics_token_reads_every_check(settings):
    settings.METRICS_TOKEN = "t" * 32
    response = Client().get(
        "/healthz",
        HTTP_ACCEPT="application/json",
        HTTP_AUTHORIZATION="Bearer " + "t" * 32,
        **PUBLIC,
    )
    assert "DatabaseWrite" in json_text(response)
