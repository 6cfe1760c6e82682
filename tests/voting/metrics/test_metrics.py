"""/metrics: votes by outcome and recompute durations, for Prometheus and nobody else."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from awards.models import Award
from tests.ballots import READING_TIME, clock_at, solved_form, vote_like_a_browser
from voting.metrics import counters as metrics
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]
SCRAPER = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(**extra) -> dict[tuple[str, tuple], float]:
    response = Client().get("/metrics", **(extra or SCRAPER))
    assert response.status_code == 200, response.text
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def vote_url(nominee) -> str:
    return nominee.get_absolute_url() + "vote/"


def votes(scraped: dict, outcome: str) -> float:
    return scraped[("laurel_votes_total", (("outcome", outcome),))]


def refused(scraped: dict, reason: str) -> float:
    return scraped[("laurel_votes_refused_total", (("reason", reason),))]


def recomputes(scraped: dict) -> float:
    return scraped[("laurel_standings_recompute_seconds_count", ())]


def test_counted_and_refused_votes_show_in_the_scrape(nominee):
    before = scrape()
    browser = Client()
    fields = solved_form(browser.get(nominee.get_absolute_url()))
    with clock_at(timezone.now() + READING_TIME):
        assert browser.post(vote_url(nominee), fields).status_code == 303
        browser.post(vote_url(nominee), fields)  # a second click: already voted
    after = scrape()
    assert votes(after, "counted") - votes(before, "counted") == 1
    assert votes(after, "refused") - votes(before, "refused") == 1
    assert refused(after, "already_voted") - refused(before, "already_voted") == 1
    assert votes(after, "held") == votes(before, "held")


def test_held_and_rate_limited_votes_are_counted_apart(nominee):
    Award.objects.filter(pk=nominee.award_id).update(ip_votes_per_hour=1)
    before = scrape()
    # A new voter without the browser check who clicks before a person could read is held.
    response = vote_like_a_browser(nominee, javascript=False, read_for=timedelta(0))
    assert response.redirect_chain[-1][1] == 303
    capped = vote_like_a_browser(nominee, REMOTE_ADDR="127.0.0.1")
    assert capped.status_code == 429
    after = scrape()
    assert votes(after, "held") - votes(before, "held") == 1
    assert votes(after, "rate_limited") - votes(before, "rate_limited") == 1


def test_recompute_durations_are_a_histogram(award, nominee):
    before = scrape()
    standings_recompute(award_id=award.pk)
    standings_recompute(award_id=award.pk)
    after = scrape()
    assert recomputes(after) - recomputes(before) == 2
    inf = ("laurel_standings_recompute_seconds_bucket", (("le", "+Inf"),))
    assert after[inf] == recomputes(after)
    assert after[("laurel_standings_recompute_seconds_sum", ())] > 0


def test_each_open_awards_standings_age_is_a_gauge(award, nominee):
    standings_recompute(award_id=award.pk)
    age = scrape()[("laurel_standings_age_seconds", (("award", award.slug),))]
    assert 0 <= age < 5


def test_counts_survive_a_failing_store_and_arrive_once_it_is_back(monkeypatch, settings):
    settings.LIMITS_RETRY_SECONDS = 0.01
    before = scrape()
    real_add = metrics.store_add

    def failing(batch):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(metrics, "store_add", failing)
    metrics.vote_outcome_count(outcome="counted")
    metrics.vote_outcome_count(outcome="counted")
    metrics.metrics_flush()
    assert metrics.pending["votes:counted"] >= 2  # kept here, and still in the scrape
    assert votes(scrape(), "counted") - votes(before, "counted") == 2
    monkeypatch.setattr(metrics, "store_add", real_add)
    time.sleep(0.02)
    metrics.vote_outcome_count(outcome="held")
    metrics.metrics_flush()
    assert not metrics.pending
    after = scrape()
    assert votes(after, "counted") - votes(before, "counted") == 2
    assert votes(after, "held") - votes(before, "held") == 1


def test_a_scrape_during_a_flush_sees_the_counts_on_their_way_to_the_store(monkeypatch, settings):
    """The flush thread empties the tally before its write reaches the store: a scrape in between
    found the counts in neither place (a CI run saw a later scrape 'gain' them)."""
    settings.LIMITS_RETRY_SECONDS = 0
    metrics.metrics_flush()
    before = votes(scrape(), "counted")
    real_add = metrics.store_add
    writing = threading.Event()

    def slow_add(batch):
        writing.set()
        time.sleep(0.3)
        real_add(batch)

    def vote_and_flush():
        metrics.vote_outcome_count(outcome="counted")  # embedded mode flushes here
        metrics.metrics_flush()  # real mode's thread would, within FLUSH_SECONDS

    monkeypatch.setattr(metrics, "store_add", slow_add)
    flush = threading.Thread(target=vote_and_flush)
    flush.start()
    assert writing.wait(5)
    during = votes(scrape(), "counted")
    flush.join()
    assert during - before == 1
    assert votes(scrape(), "counted") - before == 1


@pytest.mark.skipif(not settings.REAL_MODE, reason="embedded mode is one process by design")
def test_counts_from_other_processes_are_summed(nominee):
    """Gunicorn workers, other web containers and Celery workers add to the same counters."""
    before = scrape()
    # Three votes in a process that exits at once: its tally reaches Redis as it exits.
    code = (
        "import django; django.setup(); from voting.metrics.counters import vote_outcome_count as c; "
        "[c(outcome='counted') for _ in range(3)]"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "laurel.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert votes(scrape(), "counted") - votes(before, "counted") == 3


def test_the_public_is_refused_even_through_a_proxy_on_loopback(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 403
    assert "METRICS_TOKEN" in proxied.text
    assert client.get("/metrics", REMOTE_ADDR="").status_code == 403  # a unix socket: the proxy


def test_a_scraper_with_the_token_is_served_from_anywhere(client, settings):
    settings.METRICS_TOKEN = "a-long-random-scrape-token"
    extra = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer a-long-random-guess", **extra)
    assert wrong.status_code == 403
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer a-long-random-scrape-token", **extra)
    assert right.status_code == 200
    assert "laurel_votes_total" in right.text


def test_allowed_networks_are_configurable(client, settings):
    settings.METRICS_ALLOWED = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
