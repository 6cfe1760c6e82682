"""The award dashboard in the admin: the vote as it happens, for organizers."""

from datetime import timedelta
from itertools import count

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import CategoryFactory, NomineeFactory
from voting.models import TallyDelta, Vote
from voting.organizers import dashboard
from voting.standings.services import standings_recompute
from voting.standings.tasks import standings_recompute_due

pytestmark = pytest.mark.django_db
_voters = count()


def cast(nominee, n: int = 1, *, status: str = Vote.Status.COUNTED, ago=timedelta(minutes=5)):
    Vote.objects.bulk_create(
        Vote(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            created_at=timezone.now() - ago,
            voter_key=f"{next(_voters):032d}",
            ip="203.0.113.9",
            status=status,
        )
        for _ in range(n)
    )
    if status == Vote.Status.COUNTED:
        TallyDelta.objects.create(award=nominee.award, nominee=nominee, amount=n)


def dashboard_url(award) -> str:
    return reverse("award-dashboard", args=[award.pk])


@pytest.fixture
def busy(experts):
    apps = CategoryFactory(award=experts.award, name="Apps", slug="apps")
    ada = NomineeFactory(category=experts, name="Ada")
    bo = NomineeFactory(category=experts, name="Bo")
    ledgerly = NomineeFactory(category=apps, name="Ledgerly")
    cast(ada, 5, ago=timedelta(hours=3, minutes=5))
    cast(ada, 2)
    cast(bo, 3)
    cast(bo, 4, status=Vote.Status.QUARANTINED)
    cast(ledgerly, 1, status=Vote.Status.VOID, ago=timedelta(hours=1, minutes=5))
    standings_recompute(award_id=experts.award_id)
    return experts.award


def test_it_shows_totals_top_nominees_freshness_and_time_left(client, busy, organizer):
    client.force_login(organizer)
    page = client.get(dashboard_url(busy))
    assert page.status_code == 200
    board = page.context["board"]
    assert board.totals == {"counted": 10, "quarantined": 4, "void": 1}
    assert dict(page.context["statuses"]) == {
        "Counted": 10,
        "Quarantined (under review)": 4,
        "Void": 1,
    }
    top = {
        category.name: [(row.nominee.name, row.votes) for row in rows]
        for category, rows in board.top
    }
    assert top == {"Experts": [("Ada", 7), ("Bo", 3)], "Apps": []}
    assert board.phase == "open"
    assert timedelta(days=29) < board.time_left <= timedelta(days=30)
    assert board.standings_age < timedelta(minutes=1)
    assert board.pending_changes == 0
    # Time left, and the close in the award's own zone.
    assert "4\xa0weeks" in page.text
    assert f"closes {busy.local(busy.voting_closes):%b %-d, %Y, %H:%M}" in page.text
    assert "No counted votes yet." in page.text
    assert f'href="{reverse("integrity-review", args=[busy.pk])}"' in page.text


def test_votes_per_hour_are_counted_by_status(client, busy, organizer):
    hours = dashboard.votes_per_hour(award=busy, now=timezone.now())
    assert len(hours) == 25  # the award opened a day ago: every hour since, this one included
    by_total = [(hour.counted, hour.held, hour.void) for hour in hours if hour.total]
    assert by_total == [(5, 0, 0), (0, 0, 1), (5, 4, 0)]
    client.force_login(organizer)
    page = client.get(dashboard_url(busy))
    # Drawn on the server as SVG, with no inline style or script a CSP would block.
    assert page.text.count('<rect class="laurel-') == 4
    assert "style=" not in page.text.split('<div class="laurel-board">')[1]
    assert "<script" not in page.text.split('<div class="laurel-board">')[1]
    assert "5 counted, 4 held, 0 void" in page.text


def test_its_queries_do_not_grow_with_votes_nominees_or_categories(client, busy, organizer):
    client.force_login(organizer)
    client.get(dashboard_url(busy))  # session and content types warmed up
    with CaptureQueriesContext(connection) as small:
        assert client.get(dashboard_url(busy)).status_code == 200
    for i in range(4):
        category = CategoryFactory(award=busy, name=f"More {i}")
        for j in range(6):
            cast(NomineeFactory(category=category), j + 1, ago=timedelta(hours=i, minutes=10))
    standings_recompute(award_id=busy.pk)
    with CaptureQueriesContext(connection) as large:
        assert client.get(dashboard_url(busy)).status_code == 200
    assert len(large) == len(small)


def test_embedded_mode_says_it_runs_no_worker_or_beat(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert dashboard.worker_health().ok is None
    assert dashboard.beat_health(timezone.now()).ok is None


def test_it_reports_a_missing_worker_and_a_late_beat(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dashboard, "ping_workers", lambda: [])
    assert dashboard.worker_health() == dashboard.Health(False, "No worker answered within 1 s.")
    monkeypatch.setattr(dashboard, "ping_workers", lambda: [{"celery@a": {"ok": "pong"}}])
    assert dashboard.worker_health().ok is True

    def broker_down():
        raise ConnectionError("refused")

    monkeypatch.setattr(dashboard, "ping_workers", broker_down)
    assert dashboard.worker_health().summary == "The broker did not answer (ConnectionError)."

    dashboard.cache.delete(dashboard.HEARTBEAT_KEY)
    assert dashboard.beat_health(timezone.now()).ok is False
    standings_recompute_due.apply()  # what beat publishes records its heartbeat
    assert dashboard.beat_health(timezone.now()).ok is True
    late = dashboard.beat_health(timezone.now() + timedelta(minutes=5))
    assert late.ok is False and "seems to be down" in late.summary


def test_a_closed_award_shows_closed_and_links_to_the_results(client, busy, organizer):
    type(busy).objects.filter(pk=busy.pk).update(
        voting_closes=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(organizer)
    page = client.get(dashboard_url(busy))
    assert page.context["board"].phase == "closed"
    assert page.context["board"].time_left is None
    assert "Ready to review" in page.text


def test_the_award_page_and_the_integrity_review_link_to_it(client, busy, organizer):
    client.force_login(organizer)
    change = client.get(reverse("admin:awards_award_change", args=[busy.pk]))
    assert f'href="{dashboard_url(busy)}"' in change.text
    review = client.get(reverse("integrity-review", args=[busy.pk]))
    assert f'href="{dashboard_url(busy)}"' in review.text


def test_staff_without_the_permission_get_403_and_strangers_the_login(
    client, busy, django_user_model
):
    assert reverse("admin:login") in client.get(dashboard_url(busy))["Location"]
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(dashboard_url(busy)).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_award"))
    assert client.get(dashboard_url(busy)).status_code in (200, 404)


def test_an_unknown_award_is_a_404(client, organizer):
    client.force_login(organizer)
    assert client.get(reverse("award-dashboard", args=[999999])).status_code == 404
