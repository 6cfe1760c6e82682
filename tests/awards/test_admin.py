import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CategoryFactory, NomineeFactory

pytestmark = pytest.mark.django_db


def nominee_list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:awards_nominee_changelist"), {"all": ""})
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


def test_nominee_admin_list_query_count_does_not_grow_with_nominees(client, organizer, award):
    client.force_login(organizer)
    categories = [CategoryFactory(award=award) for _ in range(6)]
    for category in categories:
        NomineeFactory.create_batch(2, category=category)
    few_queries, few_rows = nominee_list_queries(client)
    for index, category in enumerate(categories):
        NomineeFactory.create_batch(320 if index == 0 else 130, category=category)
    many_queries, many_rows = nominee_list_queries(client)
    assert (few_rows, many_rows) == (12, 12 + 320 + 5 * 130)
    assert many_queries == few_queries


def test_organizer_can_search_nominees_by_handle(client, organizer, nominee):
    client.force_login(organizer)
    response = client.get(reverse("admin:awards_nominee_changelist"), {"q": nominee.twitter_handle})
    assert [n.pk for n in response.context["cl"].result_list] == [nominee.pk]


def test_organizer_can_filter_nominees_by_category(client, organizer, nominee):
    other = NomineeFactory(award=nominee.award, category=CategoryFactory(award=nominee.award))
    client.force_login(organizer)
    response = client.get(
        reverse("admin:awards_nominee_changelist"), {"category": str(other.category_id)}
    )
    assert [n.pk for n in response.context["cl"].result_list] == [other.pk]


def test_award_admin_edits_categories_inline(client, organizer, experts):
    client.force_login(organizer)
    response = client.get(reverse("admin:awards_award_change", args=[experts.award_id]))
    assert response.status_code == 200
    assert 'name="categories-0-name"' in response.text


def test_admin_refuses_a_nominee_in_another_awards_category(client, organizer, nominee):
    foreign = CategoryFactory()
    client.force_login(organizer)
    response = client.post(
        reverse("admin:awards_nominee_change", args=[nominee.pk]),
        {
            "award": nominee.award_id,
            "category": foreign.pk,
            "name": nominee.name,
            "slug": nominee.slug,
            "audience_size": 0,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "Choose a category of this nominee" in response.text
    nominee.refresh_from_db()
    assert nominee.category_id != foreign.pk


def test_organizer_voids_votes_in_the_admin_and_the_standings_follow(client, organizer, nominee):
    from django.utils import timezone

    from tests.ballots import cast_vote
    from voting.models import Standing, Vote
    from voting.standings.services import standings_recompute
    from voting.vocabulary import Voter

    for key in ("1" * 32, "2" * 32, "3" * 32):
        cast_vote(nominee=nominee, voter=Voter(key, "192.0.2.1", "ua"), now=timezone.now())
    standings_recompute(award_id=nominee.award_id)
    client.force_login(organizer)
    stuffed = list(Vote.objects.values_list("pk", flat=True)[:2])
    response = client.post(
        reverse("admin:voting_vote_changelist"),
        {"action": "void", "_selected_action": [str(pk) for pk in stuffed], "post": "yes"},
        follow=True,
    )
    assert "2 vote(s) voided" in response.text
    assert set(Vote.objects.filter(pk__in=stuffed).values_list("status", flat=True)) == {"void"}
    standings_recompute(award_id=nominee.award_id)
    assert Standing.objects.get(nominee=nominee).votes == 1


def test_votes_cannot_be_deleted_or_invented_in_the_admin(client, organizer, nominee):
    client.force_login(organizer)
    assert client.get(reverse("admin:voting_vote_add")).status_code == 403
    response = client.get(reverse("admin:voting_vote_changelist"))
    assert response.status_code == 200
    assert 'value="delete_selected"' not in response.text


def test_organizers_set_the_integrity_thresholds_on_the_award(client, organizer, award):
    client.force_login(organizer)
    page = client.get(reverse("admin:awards_award_change", args=[award.pk]))
    assert "Integrity" in page.text
    for field in ("new_voters_per_address", "burst_floor", "pow_max_difficulty"):
        assert f'name="{field}"' in page.text


def test_the_import_button_and_pages_are_for_those_who_may_add_and_change_nominees(
    client, django_user_model, organizer, award
):
    from django.contrib.auth.models import Permission

    from awards.models import AwardStaff

    import_url = reverse("admin:awards_nominee_import")
    client.force_login(organizer)
    assert import_url in client.get(reverse("admin:awards_nominee_changelist")).text
    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_nominee", "change_nominee"])
    )
    AwardStaff.objects.create(award=award, user=editor, role=AwardStaff.Role.ORGANIZER)
    client.force_login(editor)
    page = client.get(reverse("admin:awards_nominee_changelist"))
    assert page.status_code == 200 and import_url not in page.text
    assert client.get(import_url).status_code == 403
    assert client.post(reverse("admin:awards_nominee_process_import")).status_code == 403
