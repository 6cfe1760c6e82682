from collections import Counter
from datetime import UTC, timedelta
from itertools import count

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from awards.models import AwardStaff
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.integrity.review import Dimension, cluster_filter, review_clusters, review_timeline
from voting.models import AuditEntry, Standing, TallyDelta, Vote
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db

OFFICE, SCRIPT, HOME = "198.51.100.7", "203.0.113.9", "192.0.2.44"
_voters = count()


def cast(
    nominee,
    n: int = 1,
    *,
    ip: str = HOME,
    network: str = "",
    user_agent: str = "Mozilla/5.0 (iPhone)",
    status: str = Vote.Status.COUNTED,
    reasons: str = "",
    new_voter: bool = False,
    verified: bool = True,
    ago: timedelta = timedelta(minutes=10),
) -> list[Vote]:
    """Votes as vote_cast records them, with their tally change when they count."""
    network = network or ip.rsplit(".", 1)[0] + ".0/24"
    votes = [
        Vote.objects.create(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            created_at=timezone.now() - ago - timedelta(seconds=i),
            voter_key=f"{next(_voters):032d}",
            ip=ip,
            network=network,
            user_agent=user_agent,
            status=status,
            reasons=reasons,
            new_voter=new_voter,
            verified=verified,
            dwell_ms=5000,
        )
        for i in range(n)
    ]
    if status == Vote.Status.COUNTED:
        TallyDelta.objects.create(award=nominee.award, nominee=nominee, amount=n)
    return votes


def review_url(award) -> str:
    return reverse("integrity-review", args=[award.pk])


def statuses(votes) -> list[str]:
    return list(Vote.objects.filter(pk__in=[v.pk for v in votes]).values_list("status", flat=True))


def limits(award, *, new_voters_per_address: int = 8, unverified_share_percent: int = 30):
    award.new_voters_per_address = new_voters_per_address
    award.unverified_share_percent = unverified_share_percent
    award.save()


def address_clusters(response) -> list:
    section = next(s for s in response.context["sections"] if s["dimension"] == "address")
    return [row["cluster"] for row in section["rows"]]


def act(client, award, *, value, action="quarantine", reason="Ballot stuffing", **extra):
    data = {"dimension": "address", "value": value, "window": "24h", "action": action}
    data.update(reason=reason, **extra)
    return client.post(review_url(award), data)


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def test_page_lists_a_cluster_of_many_new_voters_from_one_address(organizer_client, nominee):
    limits(nominee.award, new_voters_per_address=8)
    cast(nominee, 8, ip=SCRIPT, new_voter=True)
    cast(nominee, 3, ip=SCRIPT, new_voter=True, status="quarantined", reasons="new_voters_address")
    cast(
        nominee,
        1,
        ip=SCRIPT,
        new_voter=True,
        status="quarantined",
        reasons="new_voters_address too_fast",
    )
    cast(nominee, 1, ip=SCRIPT, new_voter=True, status="void")
    cast(nominee, 2, ip=HOME)

    response = organizer_client.get(review_url(nominee.award))

    assert response.status_code == 200
    cluster = address_clusters(response)[0]
    assert (cluster.value, cluster.total, cluster.counted, cluster.held, cluster.void) == (
        SCRIPT,
        13,
        8,
        4,
        1,
    )
    assert (cluster.new_voters, cluster.unverified, cluster.nominees) == (
        13,
        0,
        (("Ada Lovelace", 13),),
    )
    assert [(code, n) for code, _label, n in cluster.reasons] == [
        ("new_voters_address", 4),
        ("too_fast", 1),
    ]
    assert cluster.suspicious
    assert "Many new voters from one address for one nominee" in response.text
    assert cluster.signals == ["4 held", "13 from new voters (limit 8)"]
    assert "<li>13 from new voters (limit 8)</li>" in response.text


def test_clusters_are_ordered_most_suspicious_first(nominee):
    limits(nominee.award, new_voters_per_address=8, unverified_share_percent=30)
    cast(nominee, 30, ip=OFFICE)  # the most votes, all from returning, verified voters
    cast(nominee, 5, ip=HOME, status="quarantined", reasons="too_fast")
    cast(nominee, 10, ip=SCRIPT, new_voter=True, verified=False)
    now = timezone.now()

    clusters = review_clusters(award=nominee.award, since=now - timedelta(hours=24), until=now)

    addresses = clusters[Dimension.ADDRESS]
    assert [c.value for c in addresses] == [SCRIPT, HOME, OFFICE]
    assert [c.suspicious for c in addresses] == [True, True, False]
    assert addresses[0].signals == [
        "10 from new voters (limit 8)",
        "100% without the browser check",
    ]


def test_the_window_leaves_older_votes_out(organizer_client, nominee):
    cast(nominee, 3, ip=SCRIPT, ago=timedelta(minutes=30))
    cast(nominee, 4, ip=SCRIPT, ago=timedelta(hours=3))

    last_hour = organizer_client.get(review_url(nominee.award), {"window": "1h"})
    whole = organizer_client.get(review_url(nominee.award), {"window": "all"})

    assert address_clusters(last_hour)[0].total == 3
    assert address_clusters(whole)[0].total == 7


def test_the_chart_draws_votes_over_time_with_the_nominees_name(organizer_client, nominee):
    cast(nominee, 6)
    cast(nominee, 2, status="quarantined", reasons="too_fast", ago=timedelta(hours=2))

    response = organizer_client.get(review_url(nominee.award))

    assert '<svg class="laurel-svg"' in response.text
    assert '<title id="chart-1-title">Votes per hour for Ada Lovelace</title>' in response.text
    assert "6 counted and 2 held" in response.text
    assert 'class="laurel-held"' in response.text
    assert "Table: votes per hour for Ada Lovelace" in response.text


def test_the_chart_adds_the_nominee_chosen_in_the_filter(organizer_client, nominee, experts):
    for _ in range(8):
        cast(NomineeFactory(category=experts), 5)
    quiet = NomineeFactory(category=experts, name="Grace Hopper")
    cast(quiet, 1)
    url = review_url(nominee.award)

    assert "Votes per hour for Grace Hopper" not in organizer_client.get(url).text
    response = organizer_client.get(url, {"nominee": quiet.pk})
    assert "Votes per hour for Grace Hopper" in response.text
    assert len(response.context["charts"]) == 9


def test_a_long_window_charts_votes_per_day_in_the_awards_time_zone(nominee):
    award = nominee.award
    award.voting_opens = timezone.now() - timedelta(days=20)
    award.save()
    counted = cast(nominee, 3, ago=timedelta(days=10))
    cast(nominee, 1, status="quarantined", reasons="too_fast", ago=timedelta(days=10))

    timeline = review_timeline(award=award, since=None, until=timezone.now())

    assert timeline.per == "day"
    days = [award.local(start).date() for start in timeline.starts]
    assert days[0] == award.local(award.voting_opens).date()
    per_day = Counter(award.local(vote.created_at).date() for vote in counted)
    [series] = timeline.series
    assert series.counted == [per_day[day] for day in days]
    assert series.total_held == 1


def test_quarantining_an_address_cluster_asks_first_then_changes_exactly_its_votes(
    organizer_client, organizer, nominee
):
    stuffed = cast(nominee, 5, ip=SCRIPT, new_voter=True)
    honest = cast(nominee, 3, ip=HOME)
    old = cast(nominee, 2, ip=SCRIPT, ago=timedelta(days=3))  # outside the 24-hour window
    standings_recompute(award_id=nominee.award_id)
    assert Standing.objects.get(nominee=nominee).votes == 10

    confirm = act(organizer_client, nominee.award, value=SCRIPT)

    assert confirm.status_code == 200
    assert "5 votes</strong> will change" in confirm.text
    assert 'name="confirmed" value="1"' in confirm.text
    assert statuses(stuffed) == ["counted"] * 5
    assert not AuditEntry.objects.exists()

    until = confirm.context["until"].isoformat()
    response = act(organizer_client, nominee.award, value=SCRIPT, confirmed="1", until=until)

    assert response.status_code == 302
    assert statuses(stuffed) == ["quarantined"] * 5
    assert statuses(honest + old) == ["counted"] * 5
    entry = AuditEntry.objects.get()
    assert (entry.award, entry.user, entry.action, entry.reason, entry.count) == (
        nominee.award,
        organizer,
        "quarantine",
        "Ballot stuffing",
        5,
    )
    assert entry.detail["dimension"] == "address"
    assert entry.detail["value"] == SCRIPT
    assert entry.detail["until"] == until
    page = organizer_client.get(response["Location"])
    assert "5 vote(s) held for review. Standings follow within seconds." in page.text
    assert "Ballot stuffing" in page.text  # the audit log
    standings_recompute(award_id=nominee.award_id)
    assert Standing.objects.get(nominee=nominee).votes == 5


def test_restore_brings_held_and_void_votes_back_to_counted(organizer_client, nominee):
    held = cast(
        nominee, 4, ip=OFFICE, new_voter=True, status="quarantined", reasons="new_voters_address"
    )
    void = cast(nominee, 1, ip=OFFICE, status="void")
    cast(nominee, 2, ip=OFFICE)
    standings_recompute(award_id=nominee.award_id)

    act(organizer_client, nominee.award, value=OFFICE, action="restore", confirmed="1")

    assert statuses(held + void) == ["counted"] * 5
    assert AuditEntry.objects.get().count == 5
    standings_recompute(award_id=nominee.award_id)
    assert Standing.objects.get(nominee=nominee).votes == 7


def test_an_hour_cluster_changes_only_that_hours_votes(organizer_client, nominee):
    now = timezone.now()
    start = (now - timedelta(hours=3)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    inside = cast(nominee, 2, ago=now - start - timedelta(minutes=10))
    before = cast(nominee, 3, ago=now - start + timedelta(minutes=1))
    after = cast(nominee, 1, ago=now - start - timedelta(minutes=61))

    act(
        organizer_client,
        nominee.award,
        value=start.isoformat(),
        dimension="hour",
        action="void",
        confirmed="1",
    )

    assert statuses(inside) == ["void"] * 2
    assert statuses(before + after) == ["counted"] * 4


@pytest.mark.parametrize("dimension", ["address", "network", "user_agent", "nominee", "hour"])
def test_each_cluster_links_to_exactly_its_votes_in_the_vote_list(
    organizer_client, nominee, experts, dimension
):
    other = NomineeFactory(category=experts)
    cast(nominee, 4, ip=SCRIPT, network="203.0.113.0/24", user_agent="")
    cast(other, 2, ip="203.0.113.10", network="203.0.113.0/24", user_agent="curl/8")
    cast(nominee, 1, ip=HOME, ago=timedelta(hours=5))
    response = organizer_client.get(review_url(nominee.award))
    section = next(s for s in response.context["sections"] if s["dimension"] == dimension)
    row = section["rows"][0]
    cluster = row["cluster"]

    listed = organizer_client.get(row["votes_url"])

    assert listed.status_code == 200, row["votes_url"]
    shown = {vote.pk for vote in listed.context["cl"].result_list}
    now = timezone.now()
    expected = Vote.objects.filter(
        award=nominee.award,
        created_at__gte=now - timedelta(hours=24),
    ).filter(cluster_filter(dimension, cluster.value))
    assert shown == set(expected.values_list("pk", flat=True))
    assert len(shown) == cluster.total


def test_the_award_admin_links_to_the_integrity_review(organizer_client, award):
    url = review_url(award)
    assert url in organizer_client.get(reverse("admin:awards_award_changelist")).text
    assert url in organizer_client.get(reverse("admin:awards_award_change", args=[award.pk])).text
    assert (
        "Available once the award is saved"
        in organizer_client.get(reverse("admin:awards_award_add")).text
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("helper", password="pw-helper", is_staff=True)


def test_only_staff_allowed_to_change_votes_may_review(client, django_user_model, staff, nominee):
    votes = cast(nominee, 3, ip=SCRIPT)
    url = review_url(nominee.award)

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))

    client.force_login(django_user_model.objects.create_user("voter", password="pw-voter"))
    assert client.get(url).status_code == 403

    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert act(client, nominee.award, value=SCRIPT, confirmed="1").status_code == 403
    assert statuses(votes) == ["counted"] * 3

    staff.user_permissions.add(Permission.objects.get(codename="change_vote"))
    staff = django_user_model.objects.get(pk=staff.pk)  # forget the cached permissions
    client.force_login(staff)
    assert client.get(url).status_code == 404  # not one of the awards they work on
    AwardStaff.objects.create(award=nominee.award, user=staff, role=AwardStaff.Role.MODERATOR)
    assert client.get(url).status_code == 200
    act(client, nominee.award, value=SCRIPT, confirmed="1")
    assert statuses(votes) == ["quarantined"] * 3


def test_an_unknown_award_is_404(organizer_client):
    assert organizer_client.get(reverse("integrity-review", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"dimension": "planet"},
        {"action": "delete"},
        {"reason": ""},
        {"reason": "   "},
        {"window": "3d"},
        {"value": "203.0.113.9\x00"},
        {"reason": "stuffing\x00"},
        {"dimension": "nominee", "value": "ada"},
        {"dimension": "nominee", "value": "9" * 30},
        {"dimension": "hour", "value": "yesterday"},
        {"dimension": "hour", "value": "2024-05-01T13:20:00+00:00"},
        {"dimension": "hour", "value": "9999-12-31T23:00:00+00:00"},
        {"until": "soon"},
        {"until": "0001-01-01T00:00:00+00:00"},
    ],
)
def test_bad_requests_are_refused_and_change_nothing(organizer_client, nominee, bad):
    votes = cast(nominee, 3, ip=SCRIPT)
    data = {"value": SCRIPT, "confirmed": "1", **bad}

    response = act(organizer_client, nominee.award, **data)

    assert response.status_code == 400
    assert "Nothing was changed" in response.text
    assert "\x00" not in response.text
    assert statuses(votes) == ["counted"] * 3
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "params", [{"window": "3d"}, {"window": "\x00"}, {"nominee": "ada"}, {"nominee": "9" * 30}]
)
def test_bad_filters_are_refused_with_a_message(organizer_client, award, params):
    response = organizer_client.get(review_url(award), params)
    assert response.status_code == 400
    assert "The filter was not understood" in response.text
    assert "Select a valid choice" in response.text


def test_a_cluster_of_an_unknown_nominee_changes_nothing(organizer_client, nominee):
    votes = cast(nominee, 2)

    response = act(organizer_client, nominee.award, dimension="nominee", value="99999")

    assert response.status_code == 200
    assert "No vote</strong> will change" in response.text
    act(organizer_client, nominee.award, dimension="nominee", value="99999", confirmed="1")
    assert statuses(votes) == ["counted"] * 2
    assert AuditEntry.objects.get().count == 0


def test_the_page_query_count_does_not_grow_with_clusters(
    organizer_client, nominee, experts, django_assert_max_num_queries
):
    cast(nominee, 2, ip=SCRIPT)
    with django_assert_max_num_queries(1000) as few:
        organizer_client.get(review_url(nominee.award))
    for i in range(60):
        other = NomineeFactory(category=experts)
        cast(
            other,
            2,
            ip=f"198.51.{i}.7",
            user_agent=f"agent {i}",
            status="quarantined",
            reasons="too_fast",
            ago=timedelta(minutes=10 + 20 * i),
        )
        AuditEntry.objects.create(award=nominee.award, action="auto_quarantine", count=2)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = organizer_client.get(review_url(nominee.award))
    assert len(address_clusters(response)) == 50


def test_the_vote_lists_actions_write_the_audit_log(organizer_client, organizer, nominee):
    other_award = NomineeFactory(category=CategoryFactory(award=AwardFactory()))
    picked = cast(nominee, 2) + cast(other_award, 1)

    organizer_client.post(
        reverse("admin:voting_vote_changelist"),
        {"action": "void", "_selected_action": [str(v.pk) for v in picked], "post": "yes"},
    )

    entries = AuditEntry.objects.order_by("award_id")
    assert [(e.award_id, e.user, e.action, e.count) for e in entries] == [
        (nominee.award_id, organizer, "void", 2),
        (other_award.award_id, organizer, "void", 1),
    ]
    assert entries[0].detail == {"vote_ids": sorted(v.pk for v in picked[:2]), "selected": 2}


def test_the_audit_log_is_read_only_and_names_laurel(organizer_client, nominee):
    entry = AuditEntry.objects.create(
        award=nominee.award, action="auto_quarantine", reason="Burst", count=12
    )
    changelist = organizer_client.get(
        reverse("admin:voting_auditentry_changelist"),
        {"award__id__exact": nominee.award_id, "action": "auto_quarantine"},
    )

    assert [e.pk for e in changelist.context["cl"].result_list] == [entry.pk]
    assert "Laurel" in changelist.text
    assert organizer_client.get(reverse("admin:voting_auditentry_add")).status_code == 403
    change_url = reverse("admin:voting_auditentry_change", args=[entry.pk])
    assert organizer_client.post(change_url, {"reason": "edited"}).status_code == 403
    delete_url = reverse("admin:voting_auditentry_delete", args=[entry.pk])
    assert organizer_client.post(delete_url, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason == "Burst"
    page = organizer_client.get(review_url(nominee.award))
    assert "Laurel" in page.text and "Burst" in page.text
