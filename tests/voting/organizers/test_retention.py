"""Retention: once an award's results have been published for its retention period, the
addresses and browser names on its votes are reduced, and nothing else changes."""

from datetime import timedelta
from itertools import count

import pytest
from django.conf import settings
from django.utils import timezone

from awards.models import Award
from tests.factories import NomineeFactory
from voting.models import AuditEntry, TallyDelta, Vote
from voting.organizers import retention
from voting.organizers.retention import browser_family, network_hash, votes_reduce
from voting.organizers.tasks import votes_reduce_due
from voting.standings.services import raw_counts, standings_recompute

pytestmark = pytest.mark.django_db
_voters = count()
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)
# (address as stored, its network, browser name)
EVIDENCE = [
    ("203.0.113.7", "203.0.113.0/24", IPHONE, Vote.Status.COUNTED),
    ("203.0.113.99", "203.0.113.0/24", EDGE, Vote.Status.COUNTED),
    ("2001:db8:1:2::/64", "2001:db8:1::/48", "curl/8.5", Vote.Status.QUARANTINED),
    ("unknown", "", "", Vote.Status.VOID),
]


def cast(nominee) -> list[Vote]:
    votes = Vote.objects.bulk_create(
        Vote(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            created_at=nominee.award.voting_closes - timedelta(hours=1),
            voter_key=f"{next(_voters):032d}",
            ip=ip,
            network=network,
            user_agent=agent,
            status=status,
        )
        for ip, network, agent, status in EVIDENCE
    )
    TallyDelta.objects.create(award=nominee.award, nominee=nominee, amount=2)
    return votes


@pytest.fixture
def published(experts):
    """An award whose results were published 91 days ago, with the default 90-day period."""
    now = timezone.now()
    Award.objects.filter(pk=experts.award_id).update(
        voting_opens=now - timedelta(days=130),
        voting_closes=now - timedelta(days=100),
        results_published_at=now - timedelta(days=91),
        results_frozen_at=now - timedelta(days=91),
    )
    nominee = NomineeFactory(category=experts)
    nominee.award.refresh_from_db()
    cast(nominee)
    standings_recompute(award_id=nominee.award_id)
    AuditEntry.objects.create(
        award=nominee.award,
        action=AuditEntry.Action.QUARANTINE,
        count=1,
        detail={"dimension": "address", "value": "2001:db8:1:2::/64"},
    )
    return nominee.award


def evidence(award) -> list[tuple[str, str, str, str]]:
    votes = Vote.objects.filter(award=award).order_by("id")
    return list(votes.values_list("ip", "network", "user_agent", "status"))


def test_it_reduces_addresses_to_a_keyed_hash_of_their_network_and_browsers_to_families(
    published,
):
    counts = raw_counts(award_id=published.pk)
    votes_reduce_due.apply()
    v4 = network_hash("203.0.113.0/24")
    v6 = network_hash("2001:db8:1::/48")
    assert evidence(published) == [
        (v4, v4, "Safari", Vote.Status.COUNTED),
        (v4, v4, "Edge", Vote.Status.COUNTED),
        (v6, v6, "Other", Vote.Status.QUARANTINED),
        (network_hash("unknown"), "", "", Vote.Status.VOID),
    ]
    assert v4.startswith("h:") and "203.0.113" not in v4
    # Counts, standings and earlier audit entries are untouched; the reduction is logged.
    assert raw_counts(award_id=published.pk) == counts
    assert standings_recompute(award_id=published.pk).total_votes == 2
    assert AuditEntry.objects.get(action=AuditEntry.Action.QUARANTINE).detail["value"] == (
        "2001:db8:1:2::/64"
    )
    reduced = AuditEntry.objects.get(action=AuditEntry.Action.REDUCE)
    assert (reduced.user, reduced.count, reduced.detail) == (None, 4, {"complete": True})


def test_nothing_is_reduced_before_the_period_has_passed(published):
    Award.objects.filter(pk=published.pk).update(retention_days=120)
    before = evidence(published)
    votes_reduce_due.apply()
    assert evidence(published) == before
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REDUCE).exists()


def test_an_award_never_published_is_reduced_its_period_after_voting_closed(published):
    Award.objects.filter(pk=published.pk).update(results_published_at=None, results_frozen_at=None)
    votes_reduce_due.apply()
    assert all(ip.startswith("h:") for ip, *_ in evidence(published))


def test_addresses_in_the_audit_log_become_their_networks(published):
    AuditEntry.objects.create(
        award=published,
        action=AuditEntry.Action.AUTO_QUARANTINE,
        count=3,
        detail={"dimension": "ip", "value": "203.0.113.7", "addresses": [["198.51.100.9", 2]]},
    )
    votes_reduce_due.apply()
    held = AuditEntry.objects.get(action=AuditEntry.Action.AUTO_QUARANTINE)
    assert held.detail == {
        "dimension": "ip",
        "value": "203.0.113.0/24",
        "addresses": [["198.51.100.0/24", 2]],
    }
    assert held.count == 3


def test_running_it_again_changes_nothing_and_logs_nothing(published):
    votes_reduce_due.apply()
    after = evidence(published)
    result = votes_reduce(award_id=published.pk)
    assert (result.reduced, result.done) == (0, True)
    assert evidence(published) == after
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REDUCE).count() == 1


def test_it_works_in_batches_and_resumes_where_it_stopped(published, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    first = votes_reduce(award_id=published.pk, max_batches=1)
    assert (first.reduced, first.done) == (3, False)
    assert sum(ip.startswith("h:") for ip, *_ in evidence(published)) == 3
    second = votes_reduce(award_id=published.pk)
    assert (second.reduced, second.done) == (1, True)
    assert all(ip.startswith("h:") for ip, *_ in evidence(published))


def test_other_awards_keep_their_evidence(published):
    other = NomineeFactory(
        category__award=Award.objects.create(
            name="Other",
            slug="other",
            voting_opens=timezone.now(),
            voting_closes=timezone.now() + timedelta(days=1),
        )
    )
    cast(other)
    votes_reduce_due.apply()
    assert [ip for ip, *_ in evidence(other.award)] == [ip for ip, *_ in EVIDENCE]


def test_the_hash_is_keyed_by_the_secret_key(settings):
    first = network_hash("203.0.113.7")
    assert first == network_hash("203.0.113.200")
    settings.SECRET_KEY = "another-secret-key-0123456789abcdef0123456789"
    assert network_hash("203.0.113.7") != first


@pytest.mark.parametrize(
    "agent, family",
    [
        (IPHONE, "Safari"),
        (EDGE, "Edge"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox"),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36",
            "Chrome",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36", "Bot"),
        ("python-requests/2.31", "Other"),
        ("", ""),
    ],
)
def test_browser_names_reduce_to_their_family(agent, family):
    assert browser_family(agent) == family


def test_the_beat_schedule_runs_it_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["votes-reduce-due"]
    assert entry["task"] == "voting.tasks.votes_reduce_due"
    assert entry["schedule"] == 3600
