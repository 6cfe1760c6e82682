"""Organizers run their own awards, moderators review their integrity, and neither can see
or touch another award's anything, whatever URL or form data they send."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from awards.models import Award, AwardStaff, Category, Nominee
from awards.roles import award_for_user_or_404, awards_for
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.models import AuditEntry, Vote

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def vote_for(nominee, n=1):
    return [
        Vote.objects.create(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            voter_key=f"{nominee.pk:08d}{i:024d}",
            ip="203.0.113.7",
            created_at=timezone.now(),
        )
        for i in range(n)
    ]


def staff_member(django_user_model, username, *, group, award, role):
    user = django_user_model.objects.create_user(username, password=f"pw-{username}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    AwardStaff.objects.create(award=award, user=user, role=role)
    return user


@pytest.fixture
def theirs(db):
    nominee = NomineeFactory(
        category=CategoryFactory(award=AwardFactory(name="Rival Awards", slug="rival")),
        name="Rita Rival",
    )
    vote_for(nominee, 2)
    return nominee


@pytest.fixture
def olga(django_user_model, award):
    return staff_member(
        django_user_model, "olga", group="Organizers", award=award, role=AwardStaff.Role.ORGANIZER
    )


@pytest.fixture
def max_(django_user_model, award):
    return staff_member(
        django_user_model, "max", group="Moderators", award=award, role=AwardStaff.Role.MODERATOR
    )


def changelist(client, model: str, **params):
    response = client.get(reverse(f"admin:{model}_changelist"), params)
    assert response.status_code == 200
    return response


def test_the_migration_creates_organizers_and_moderators_with_their_permissions():
    organizers = set(
        Group.objects.get(name="Organizers").permissions.values_list("codename", flat=True)
    )
    moderators = set(
        Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True)
    )
    assert {"change_award", "add_nominee", "delete_nominee", "change_vote"} <= organizers
    assert moderators == {"view_award", "view_vote", "change_vote", "view_auditentry"}
    # Nobody but a superuser deletes an award, a vote or a standing.
    assert not {"delete_award", "delete_vote", "delete_standing"} & (organizers | moderators)


def test_an_organizer_lists_only_their_own_awards_rows(client, olga, nominee, theirs):
    vote_for(nominee)
    client.force_login(olga)
    assert [a.pk for a in changelist(client, "awards_award").context["cl"].result_list] == [
        nominee.award_id
    ]
    for model in ("awards_category", "awards_nominee", "voting_vote", "voting_auditentry"):
        rows = changelist(client, model).context["cl"].result_list
        assert {row.award_id for row in rows} <= {nominee.award_id}, model
    page = changelist(client, "voting_vote")
    assert len(page.context["cl"].result_list) == 1
    # The list filters do not even name the other award or its categories.
    assert "Rival Awards" not in page.text
    assert "Rival Awards" not in changelist(client, "awards_nominee").text


def test_an_organizer_cannot_open_or_change_another_awards_rows(client, olga, theirs):
    client.force_login(olga)
    for name, pk in [
        ("awards_award", theirs.award_id),
        ("awards_category", theirs.category_id),
        ("awards_nominee", theirs.pk),
    ]:
        response = client.get(reverse(f"admin:{name}_change", args=[pk]))
        assert response.status_code == 302, name  # "doesn't exist", back to the index
        assert response["Location"] == reverse("admin:index")
    client.post(
        reverse("admin:awards_nominee_change", args=[theirs.pk]),
        {
            "award": theirs.award_id,
            "category": theirs.category_id,
            "name": "Hijacked",
            "slug": theirs.slug,
            "audience_size": 0,
        },
    )
    client.post(reverse("admin:awards_nominee_delete", args=[theirs.pk]), {"post": "yes"})
    theirs.refresh_from_db()
    assert theirs.name == "Rita Rival"


def test_an_organizer_cannot_move_a_nominee_into_another_awards_category(
    client, olga, nominee, theirs
):
    client.force_login(olga)
    response = client.post(
        reverse("admin:awards_nominee_change", args=[nominee.pk]),
        {
            "award": theirs.award_id,
            "category": theirs.category_id,
            "name": nominee.name,
            "slug": nominee.slug,
            "audience_size": 0,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    nominee.refresh_from_db()
    assert (nominee.award_id, nominee.category_id) != (theirs.award_id, theirs.category_id)
    response = client.post(
        reverse("admin:awards_nominee_add"),
        {
            "award": theirs.award_id,
            "category": theirs.category_id,
            "name": "Intruder",
            "slug": "intruder",
            "audience_size": 0,
        },
    )
    assert response.status_code == 200
    assert not Nominee.objects.filter(slug="intruder").exists()


def test_an_organizer_cannot_act_on_another_awards_votes_by_posting_their_ids(client, olga, theirs):
    client.force_login(olga)
    ids = [str(pk) for pk in Vote.objects.values_list("pk", flat=True)]
    client.post(
        reverse("admin:voting_vote_changelist"),
        {"action": "void", "_selected_action": ids, "post": "yes", "index": "0"},
    )
    assert set(Vote.objects.values_list("status", flat=True)) == {Vote.Status.COUNTED}
    assert not AuditEntry.objects.exists()


def form_data(page) -> dict:
    """What the admin's form would post as drawn, defaults included."""
    data = {}
    for field in page.context["adminform"].form:
        value, widget = field.value(), field.field.widget
        if value is None:
            continue
        if hasattr(widget, "widgets"):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{field.html_name}_{index}"] = part
        else:
            data[field.html_name] = value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f.html_name: f.value() for f in formset.management_form})
        for form in formset.forms:
            data.update({f.html_name: f.value() for f in form if f.value() is not None})
    return data


def when(data: dict, name: str, day: str) -> None:
    if f"{name}_0" in data or name not in data:
        data.update({f"{name}_0": day, f"{name}_1": "00:00:00"})
    else:
        data[name] = f"{day} 00:00"


def test_an_organizer_who_creates_an_award_organizes_it(client, olga):
    client.force_login(olga)
    data = form_data(client.get(reverse("admin:awards_award_add")))
    data.update({"name": "New Awards", "slug": "new-awards", "time_zone": "UTC"})
    when(data, "voting_opens", "2030-01-01")
    when(data, "voting_closes", "2030-02-01")
    response = client.post(reverse("admin:awards_award_add"), data)
    award = Award.objects.filter(slug="new-awards").first()
    if award is None:  # the form grew fields: show what it wants
        pytest.fail(str(response.context["adminform"].form.errors))
    assert award in awards_for(olga, role=AwardStaff.Role.ORGANIZER)


def test_only_superusers_hand_out_roles(client, olga, organizer, award):
    client.force_login(olga)
    assert (
        "staff-TOTAL_FORMS"
        not in client.get(reverse("admin:awards_award_change", args=[award.pk])).text
    )
    client.force_login(organizer)
    assert (
        "staff-TOTAL_FORMS"
        in client.get(reverse("admin:awards_award_change", args=[award.pk])).text
    )


def test_a_moderator_reviews_the_integrity_of_their_award_only(client, max_, nominee, theirs):
    votes = vote_for(nominee, 2)
    client.force_login(max_)
    assert client.get(reverse("integrity-review", args=[nominee.award_id])).status_code == 200
    assert client.get(reverse("integrity-review", args=[theirs.award_id])).status_code == 404
    rows = changelist(client, "voting_vote").context["cl"].result_list
    assert {v.pk for v in rows} == {v.pk for v in votes}
    client.post(
        reverse("admin:voting_vote_changelist"),
        {"action": "void", "_selected_action": [str(votes[0].pk)], "post": "yes", "index": "0"},
    )
    assert Vote.objects.get(pk=votes[0].pk).status == Vote.Status.VOID


def test_a_moderator_cannot_edit_the_award_or_its_nominees(client, max_, nominee):
    client.force_login(max_)
    # The award opens read-only, for its integrity review link.
    page = client.get(reverse("admin:awards_award_change", args=[nominee.award_id]))
    assert page.status_code == 200
    assert reverse("integrity-review", args=[nominee.award_id]) in page.text
    assert 'name="name"' not in page.text
    client.post(reverse("admin:awards_award_change", args=[nominee.award_id]), {"name": "Renamed"})
    assert Award.objects.get(pk=nominee.award_id).name == nominee.award.name
    assert client.get(reverse("admin:awards_nominee_changelist")).status_code == 403
    assert client.get(reverse("admin:awards_nominee_change", args=[nominee.pk])).status_code == 403


def test_an_organizer_of_one_award_and_moderator_of_another_cannot_edit_the_second(
    client, django_user_model, award, theirs
):
    user = staff_member(
        django_user_model, "mixed", group="Organizers", award=award, role=AwardStaff.Role.ORGANIZER
    )
    AwardStaff.objects.create(award=theirs.award, user=user, role=AwardStaff.Role.MODERATOR)
    client.force_login(user)
    assert client.get(reverse("integrity-review", args=[theirs.award_id])).status_code == 200
    client.post(reverse("admin:awards_award_change", args=[theirs.award_id]), {"name": "Renamed"})
    assert Award.objects.get(pk=theirs.award_id).name == "Rival Awards"
    assert client.get(reverse("admin:awards_nominee_change", args=[theirs.pk])).status_code == 302


def test_staff_without_a_role_on_any_award_see_none(client, django_user_model, nominee):
    user = django_user_model.objects.create_user("nobody", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Organizers"))
    client.force_login(user)
    assert len(changelist(client, "awards_award").context["cl"].result_list) == 0
    assert len(changelist(client, "awards_nominee").context["cl"].result_list) == 0


def test_a_superuser_runs_every_award(rf, organizer, nominee, theirs):
    assert set(awards_for(organizer)) == {nominee.award, theirs.award}
    request = rf.get("/")
    request.user = organizer
    assert award_for_user_or_404(request, theirs.award_id, role=AwardStaff.Role.ORGANIZER)


def test_the_category_filter_lists_only_own_categories(client, olga, experts, theirs):
    client.force_login(olga)
    text = changelist(client, "awards_nominee").text
    assert "Experts" in text
    assert theirs.category.name not in text
    assert Category.objects.count() == 2


def run_django(code: str, **env) -> subprocess.CompletedProcess:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key
        in {
            "PATH",
            "HOME",
            "LAUREL_VAR_DIR",
            "LAUREL_MODE",
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
        }
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "laurel.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_admin_moves_to_the_path_set_in_admin_url():
    done = run_django(
        "from django.urls import reverse; from awards.models import RESERVED_AWARD_SLUGS; "
        "print(reverse('admin:index'), reverse('integrity-review', args=[7]), "
        "'backstage' in RESERVED_AWARD_SLUGS)",
        ADMIN_URL="backstage/",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["/backstage/", "/backstage/integrity/7/", "True"]


@pytest.mark.parametrize("bad", ["/admin/", "admin", "../admin/", "ad min/"])
def test_a_malformed_admin_url_stops_start_up_naming_the_variable(bad):
    done = run_django("", ADMIN_URL=bad)
    assert done.returncode != 0
    assert "ImproperlyConfigured: ADMIN_URL" in done.stderr


def test_organizer_pages_of_another_award_are_not_found(client, olga, award, theirs):
    client.force_login(olga)
    for name in (
        "integrity-review",
        "award-dashboard",
        "results-review",
        "results-preview",
        "export-results",
        "export-votes",
    ):
        assert client.get(reverse(name, args=[theirs.award_id])).status_code == 404, name
        assert client.get(reverse(name, args=[award.pk])).status_code < 400, name


def test_the_import_offers_only_ones_own_awards(client, olga, award, theirs):
    client.force_login(olga)
    page = client.get(reverse("admin:awards_nominee_import"))
    assert page.status_code == 200
    assert award.name in page.text
    assert "Rival Awards" not in page.text


def test_a_moderator_opens_no_organizer_page(client, max_, award):
    client.force_login(max_)
    for name in ("award-dashboard", "results-review", "export-results", "export-votes"):
        assert client.get(reverse(name, args=[award.pk])).status_code in (403, 404), name
    assert client.get(reverse("admin:awards_nominee_import")).status_code == 403
