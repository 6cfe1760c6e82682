"""Publishing the results: reviewed after the close, marked, previewed, published at a chosen
time, and frozen until an organizer publishes again."""

import re
import time
from datetime import UTC, datetime, timedelta
from itertools import count
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from awards.lookups import nominee_for_voting
from awards.models import Award, Nominee
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.integrity.review import votes_set_status_audited
from voting.models import AuditEntry, PublishedResult, TallyDelta, Vote
from voting.standings.public import public_standing
from voting.standings.results import PublishError, results_publish
from voting.standings.services import standings_recompute

pytestmark = pytest.mark.django_db
# Experts: Dora wins, Bea and Cy tie for second, Al fourth, Eve has no votes. Apps: Ledgerly.
VOTES = {"Dora": 6, "Bea": 4, "Cy": 4, "Al": 2, "Eve": 0}
_voters = count()


def cast(nominee, n: int) -> list[Vote]:
    votes = [
        Vote.objects.create(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            created_at=nominee.award.voting_closes - timedelta(hours=2, seconds=i),
            voter_key=f"{next(_voters):032d}",
            ip=f"198.51.100.{i + 1}",
            network="198.51.100.0/24",
        )
        for i in range(n)
    ]
    if n:
        TallyDelta.objects.create(award=nominee.award, nominee=nominee, amount=n)
    return votes


@pytest.fixture
def race(experts):
    award = experts.award
    Award.objects.filter(pk=award.pk).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(days=1),
        standings_visibility=Award.Visibility.HIDDEN,
        finalists_per_category=3,
    )
    award.refresh_from_db()
    apps = CategoryFactory(award=award, name="Apps", slug="apps")
    people = {
        name: NomineeFactory(category=experts, name=name, slug=name.lower()) for name in VOTES
    }
    people["Ledgerly"] = NomineeFactory(category=apps, name="Ledgerly", slug="ledgerly")
    for name, n in {**VOTES, "Ledgerly": 7}.items():
        people[name].award = award
        cast(people[name], n)
    standings_recompute(award_id=award.pk)
    return people


@pytest.fixture
def award_of(race):
    return Award.objects.get(pk=race["Dora"].award_id)


def results_url(award) -> str:
    return reverse("results-review", args=[award.pk])


def publish_url(award) -> str:
    return reverse("results-publish", args=[award.pk])


def confirm(client, award, data: dict, **kwargs):
    """The organizer's journey: the review page, then its confirming POST."""
    review = client.get(publish_url(award), data)
    assert review.status_code == 200, review.text
    form = {**data, "seen": review.context["check"].seen, "acknowledge": "on"}
    return client.post(publish_url(award), form, **kwargs)


def local_text(award, moment: datetime) -> str:
    return award.local(moment).strftime("%Y-%m-%dT%H:%M")


def test_it_refuses_to_publish_before_voting_closes(experts, organizer):
    nominee = NomineeFactory(category=experts)
    cast(nominee, 2)
    with pytest.raises(PublishError, match="once voting has closed"):
        results_publish(award=experts.award, by=organizer, at=timezone.now())
    assert not PublishedResult.objects.exists()
    experts.award.refresh_from_db()
    assert experts.award.results_published_at is None


def test_the_publish_page_refuses_before_the_close_with_a_400(client, experts, organizer):
    NomineeFactory(category=experts)
    client.force_login(organizer)
    page = client.get(results_url(experts.award))
    assert page.status_code == 200
    assert "Results can be reviewed here now and published once it has closed" in page.text
    after_the_close = {
        "publish_at": local_text(experts.award, experts.award.voting_closes + timedelta(hours=1))
    }
    review = client.get(publish_url(experts.award), after_the_close)
    assert review.status_code == 200
    assert "Voting has not closed yet" in review.text
    assert 'id="confirm-form"' not in review.text
    response = client.post(publish_url(experts.award), after_the_close)
    assert response.status_code == 400
    assert "once voting has closed" in response.text
    assert not PublishedResult.objects.exists()


def test_the_review_page_marks_the_top_n_per_category_by_default(client, race, organizer):
    client.force_login(organizer)
    page = client.get(results_url(race["Dora"].award))
    categories = {category: entries for category, entries, _count in page.context["categories"]}
    experts = {
        e["row"].nominee.name: (e["finalist"], e["winner"])
        for e in categories[race["Dora"].category]
    }
    assert experts == {
        "Dora": (True, True),
        "Bea": (True, False),
        "Cy": (True, False),
        "Al": (False, False),
        "Eve": (False, False),
    }


def test_publishing_freezes_the_final_standings_with_default_marks(client, race, organizer):
    award = race["Dora"].award
    client.force_login(organizer)
    response = confirm(
        client,
        award,
        {
            "publish_at": local_text(award, timezone.now() - timedelta(minutes=5)),
            "finalists": [race[name].pk for name in ("Dora", "Bea", "Cy", "Ledgerly")],
            "winners": [race["Dora"].pk, race["Ledgerly"].pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Results published" in response.text
    frozen = {
        row.nominee.name: (row.votes, row.category_rank, row.result)
        for row in PublishedResult.objects.select_related("nominee")
    }
    assert frozen == {
        "Dora": (6, 1, "winner"),
        "Bea": (4, 2, "finalist"),
        "Cy": (4, 2, "finalist"),
        "Al": (2, 4, ""),
        "Eve": (0, None, ""),
        "Ledgerly": (7, 1, "winner"),
    }
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PUBLISH)
    assert entry.user == organizer and entry.count == 23
    assert entry.detail["winners"] == sorted([race["Dora"].pk, race["Ledgerly"].pk])
    home = client.get("/sbia/")
    experts = dict(home.context["results"].categories)[race["Dora"].category]
    assert [(p.nominee.name, p.result) for p in experts] == [
        ("Dora", "winner"),
        ("Bea", "finalist"),
        ("Cy", "finalist"),
    ]


def test_organizers_marks_replace_the_default(client, race, organizer):
    """A jury may disqualify or add: the marks published are the ones ticked."""
    award = race["Dora"].award
    client.force_login(organizer)
    confirm(
        client,
        award,
        {
            "publish_at": local_text(award, timezone.now() - timedelta(minutes=1)),
            "finalists": [race["Bea"].pk, race["Al"].pk],
            "winners": [race["Bea"].pk],
        },
    )
    for name, result in {"Bea": "winner", "Al": "finalist", "Dora": None}.items():
        nominee = Nominee.objects.select_related("award").get(pk=race[name].pk)
        assert public_standing(nominee, now=timezone.now()).result == result
    assert client.get("/sbia/bea/").context["public"].result == "winner"


def test_a_void_after_publishing_changes_nothing_public_until_published_again(
    client, race, organizer
):
    award = race["Dora"].award
    results_publish(award=award, by=organizer, at=timezone.now() - timedelta(minutes=1))
    votes_set_status_audited(
        votes=Vote.objects.filter(nominee=race["Dora"]),
        status=Vote.Status.VOID,
        user=organizer,
        reason="A bot farm",
    )
    standings_recompute(award_id=award.pk)

    dora = client.get("/api/sbia/nominees/dora/").json()
    assert (dora["votes"], dora["rank"], dora["result"]) == (6, 1, "winner")
    standings = client.get("/api/sbia/standings/experts/").json()
    assert standings["final"] is True
    assert [(r["nominee"], r["votes"], r["result"]) for r in standings["results"][:2]] == [
        ("Dora", 6, "winner"),
        ("Bea", 4, "finalist"),
    ]
    page = client.get("/sbia/standings/experts/")
    assert [row.nominee.name for row in page.context["page"]][:1] == ["Dora"]
    client.force_login(organizer)
    review = client.get(results_url(award))
    assert review.context["changed_since"] == 1
    assert "1 nominee has a different count now" in review.text

    without_a_reason = {
        "publish_at": local_text(award, timezone.now() - timedelta(minutes=1)),
        "finalists": [race["Bea"].pk, race["Cy"].pk],
        "winners": [race["Bea"].pk, race["Cy"].pk],
    }
    for send in (client.get, client.post):  # the review, and a confirmation without one
        refused = send(reverse("results-publish", args=[award.pk]), without_a_reason)
        assert refused.status_code == 400
        assert "Say why the results are published again" in refused.text
    assert client.get("/api/sbia/nominees/dora/").json()["votes"] == 6

    confirm(
        client,
        award,
        {
            "publish_at": local_text(award, timezone.now() - timedelta(minutes=1)),
            "finalists": [race["Bea"].pk, race["Cy"].pk],
            "winners": [race["Bea"].pk, race["Cy"].pk],
            "reason": "Dora's votes came from a bot farm",
        },
    )
    dora = client.get("/api/sbia/nominees/dora/").json()
    assert (dora["votes"], dora["result"]) == (0, None)
    bea = client.get("/api/sbia/nominees/bea/").json()
    assert (bea["votes"], bea["rank"], bea["result"]) == (4, 1, "winner")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REPUBLISH)
    assert entry.user == organizer
    assert entry.reason == "Dora's votes came from a bot farm"
    assert entry.detail["nominees_with_changed_votes"] == [race["Dora"].pk]


def test_a_scheduled_publication_appears_at_its_time_with_nobody_acting(client, race, organizer):
    award = race["Dora"].award
    at = timezone.now() + timedelta(hours=2)
    results_publish(award=award, by=organizer, at=at)
    assert client.get("/api/sbia/nominees/dora/").json()["visible"] is False
    assert "results" not in client.get("/sbia/").context
    later = at + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/api/sbia/nominees/dora/").json()["result"] == "winner"
        assert client.get("/sbia/").context["results"].overall_winners[0].nominee.name == (
            "Ledgerly"
        )


def test_a_published_nominee_without_votes_has_no_rank_anywhere(client, race, organizer):
    award = race["Dora"].award
    results_publish(award=award, by=organizer, at=timezone.now() - timedelta(minutes=1))
    eve = PublishedResult.objects.get(nominee=race["Eve"])
    assert (eve.category_rank, eve.overall_rank, eve.result) == (None, None, "")
    page = client.get("/sbia/eve/")
    assert not re.search(r"#\d+ (in|overall)", page.text)
    assert "No votes" in page.text
    data = client.get("/api/sbia/nominees/eve/").json()
    assert (data["rank"], data["category_rank"], data["overall_rank"]) == (None, None, None)
    standings = client.get("/api/sbia/standings/experts/").json()["results"]
    assert [(row["nominee"], row["rank"]) for row in standings][-1] == ("Eve", None)
    table = client.get("/sbia/standings/experts/").text
    assert re.search(
        r'<td class="num"><span aria-hidden="true">—</span>.*?\s*<td><a [^>]*>Eve<', table
    )
    client.force_login(organizer)
    review = client.get(results_url(award)).text
    assert re.search(r'<td class="laurel-num">—</td>\s*<th scope="row">Eve</th>', review)


def test_the_database_refuses_a_rank_or_a_mark_without_votes(race):
    row = PublishedResult(
        nominee=race["Eve"],
        award=race["Eve"].award,
        category=race["Eve"].category,
        votes=0,
        category_rank=1,
        overall_rank=1,
        overall_position=1,
        category_position=1,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    row.category_rank = row.overall_rank = None
    row.result = PublishedResult.Result.WINNER
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_a_nominee_without_votes_cannot_be_marked(race, organizer):
    award = race["Dora"].award
    with pytest.raises(PublishError, match="with counted votes"):
        results_publish(
            award=award, by=organizer, at=timezone.now(), finalists=[race["Eve"].pk], winners=[]
        )
    assert not PublishedResult.objects.exists()


def test_the_publication_time_is_read_in_the_awards_time_zone(client, race, organizer):
    award = race["Dora"].award
    Award.objects.filter(pk=award.pk).update(
        time_zone="Asia/Tokyo",
        voting_opens=datetime(2026, 1, 1, tzinfo=UTC),
        voting_closes=datetime(2026, 1, 10, tzinfo=UTC),
    )
    client.force_login(organizer)
    confirm(client, award, {"publish_at": "2026-01-20T09:30"})
    award.refresh_from_db()
    assert award.results_published_at == datetime(2026, 1, 20, 0, 30, tzinfo=UTC)


def test_the_preview_shows_the_marked_results_without_publishing(client, race, organizer):
    award = race["Dora"].award
    client.force_login(organizer)
    preview = client.get(
        reverse("results-preview", args=[award.pk]),
        {"finalists": [race["Al"].pk], "winners": [race["Cy"].pk]},
    )
    assert preview.status_code == 200
    assert "Preview of the published results" in preview.text
    experts = dict(preview.context["results"].categories)[race["Dora"].category]
    assert [(p.nominee.name, p.result) for p in experts] == [("Cy", "winner"), ("Al", "finalist")]
    assert not PublishedResult.objects.exists()
    award.refresh_from_db()
    assert award.results_published_at is None
    assert "results" not in client.get("/sbia/").context


@pytest.mark.parametrize(
    "data, message",
    [
        ({"publish_at": "next tuesday"}, "Enter a valid date/time"),
        ({"publish_at": "2020-01-01T10:00"}, "after voting closed"),
        ({"publish_at": "", "finalists": ["x"]}, "Select a valid choice"),
    ],
)
def test_bad_publish_input_gets_a_400_and_publishes_nothing(client, race, organizer, data, message):
    client.force_login(organizer)
    for send in (client.get, client.post):
        response = send(publish_url(race["Dora"].award), data)
        assert response.status_code == 400
        assert message in response.text
    assert not PublishedResult.objects.exists()


def test_a_nominee_of_another_award_cannot_be_marked(client, race, organizer):
    stranger = NomineeFactory(category=CategoryFactory(award=AwardFactory(slug="other")))
    client.force_login(organizer)
    response = client.post(
        publish_url(race["Dora"].award),
        {"publish_at": local_text(race["Dora"].award, timezone.now()), "winners": [stranger.pk]},
    )
    assert response.status_code == 400
    assert not PublishedResult.objects.exists()


def test_staff_without_the_permission_get_403(client, race, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_award"))
    client.force_login(clerk)
    award = race["Dora"].award
    assert client.get(results_url(award)).status_code == 403
    data = {"publish_at": "2030-01-01T00:00"}
    assert client.get(publish_url(award), data).status_code == 403
    assert client.post(publish_url(award), data).status_code == 403
    assert not PublishedResult.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_form(client, race):
    response = client.get(results_url(race["Dora"].award))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_a_republication_reaches_cached_pages_at_once(client, race, organizer, settings):
    settings.PAGE_CACHE_SECONDS = 60  # pages are kept: only a new version may replace them
    award = race["Dora"].award
    results_publish(award=award, by=organizer, at=timezone.now() - timedelta(minutes=1))
    assert client.get("/api/sbia/standings/experts/").json()["results"][0]["nominee"] == "Dora"
    votes_set_status_audited(
        votes=Vote.objects.filter(nominee=race["Dora"]),
        status=Vote.Status.VOID,
        user=organizer,
        reason="A bot farm",
    )
    results_publish(
        award=award, by=organizer, at=timezone.now() - timedelta(minutes=1), reason="Bot farm"
    )
    assert client.get("/api/sbia/standings/experts/").json()["results"][0]["nominee"] == "Bea"


def test_a_publication_reaches_the_vote_endpoints_in_memory_catalogue(
    race, organizer, settings, django_capture_on_commit_callbacks
):
    settings.CATALOGUE_CACHE_SECONDS = 5
    dora = race["Dora"]
    assert nominee_for_voting("sbia", dora.slug).award.results_published_at is None
    with django_capture_on_commit_callbacks(execute=True):
        results_publish(award=dora.award, by=organizer, at=timezone.now() - timedelta(minutes=1))
    with mock.patch("awards.lookups.time.monotonic", return_value=time.monotonic() + 60):
        assert nominee_for_voting("sbia", dora.slug).award.results_published_at is not None
