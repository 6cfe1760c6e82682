"""Nothing in the admin deletes a vote or a standing; every bulk or destructive action is
confirmed on a page of its own and written to the audit log."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from awards.models import Category, Nominee
from tests.awards.test_roles import form_data
from tests.ballots import cast_vote
from tests.factories import CategoryFactory, NomineeFactory
from voting.models import AuditEntry, Standing, StandingsSnapshot, Vote
from voting.standings.services import standings_recompute
from voting.vocabulary import Voter

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(nominee, experts):
    """Two nominees with votes and standings, and one without a vote."""
    second = NomineeFactory(category=experts)
    for index, who in enumerate([nominee, nominee, second]):
        voter = Voter(f"{index:032d}", f"192.0.2.{index + 1}", "Mozilla/5.0")
        cast_vote(nominee=who, voter=voter, now=timezone.now())
    standings_recompute(award_id=nominee.award_id)
    return nominee, second


@pytest.fixture
def admin_client(client, organizer):
    client.force_login(organizer)
    return client


def snapshot():
    return (Vote.objects.count(), Standing.objects.count(), StandingsSnapshot.objects.count())


def laurel_admins():
    return [
        (model, admin.site.get_model_admin(model))
        for model in apps.get_models()
        if admin.site.is_registered(model) and model._meta.app_label in {"awards", "voting"}
    ]


def test_no_admin_url_deletes_a_vote_or_a_standing(admin_client, field):
    """Every Laurel admin, every object: the delete view, GET and POST, and delete_selected."""
    before = snapshot()
    assert before == (3, 2, 1)
    for model, _model_admin in laurel_admins():
        info = (model._meta.app_label, model._meta.model_name)
        pks = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
        admin_client.post(
            reverse("admin:{}_{}_changelist".format(*info)),
            {"action": "delete_selected", ACTION_CHECKBOX_NAME: pks, "post": "yes"},
        )
        for pk in pks:
            try:
                url = reverse("admin:{}_{}_delete".format(*info), args=[pk])
            except NoReverseMatch:
                continue
            admin_client.get(url)
            admin_client.post(url, {"post": "yes"})
        assert snapshot() == before, model
    assert Nominee.objects.filter(pk__in=[n.pk for n in field]).count() == 2


@pytest.mark.parametrize("model", [Vote, Standing, StandingsSnapshot])
def test_votes_and_standings_offer_no_delete(admin_client, field, model):
    info = (model._meta.app_label, model._meta.model_name)
    obj = model.objects.first()
    page = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert 'value="delete_selected"' not in page.text
    delete = reverse("admin:{}_{}_delete".format(*info), args=[obj.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    change = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    assert delete not in change.text


def test_a_nominee_with_votes_cannot_be_deleted(admin_client, field):
    nominee, _second = field
    url = reverse("admin:awards_nominee_delete", args=[nominee.pk])
    page = admin_client.post(url, {"post": "yes"})
    assert "Cannot delete nominee" in page.text
    assert Nominee.objects.filter(pk=nominee.pk).exists()


def test_deleting_nominees_without_votes_is_confirmed_and_audited(admin_client, organizer, field):
    nominee, _second = field
    lonely = NomineeFactory(category=nominee.category, name="Nobody Voted")
    changelist = reverse("admin:awards_nominee_changelist")
    chosen = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(lonely.pk)]}
    confirm = admin_client.post(changelist, chosen)
    assert "Are you sure" in confirm.text
    assert Nominee.objects.filter(pk=lonely.pk).exists()
    admin_client.post(changelist, {**chosen, "post": "yes"})
    assert not Nominee.objects.filter(pk=lonely.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.count, entry.award_id) == (
        AuditEntry.Action.DELETE,
        organizer,
        1,
        nominee.award_id,
    )
    assert entry.detail["names"] == ["Nobody Voted"]


def test_deleting_a_category_is_audited(admin_client, award):
    empty = CategoryFactory(award=award, name="Empty")
    admin_client.post(reverse("admin:awards_category_delete", args=[empty.pk]), {"post": "yes"})
    assert not Category.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.get().detail["model"] == "category"


def test_voiding_votes_asks_first_then_logs_who_and_why(admin_client, organizer, field):
    nominee, _second = field
    votes = list(Vote.objects.filter(nominee=nominee))
    chosen = {"action": "void", ACTION_CHECKBOX_NAME: [str(v.pk) for v in votes], "index": "0"}
    changelist = reverse("admin:voting_vote_changelist")

    confirm = admin_client.post(changelist, chosen)
    assert confirm.status_code == 200
    assert "Void these votes?" in confirm.text
    assert 'name="reason"' in confirm.text
    assert set(Vote.objects.values_list("status", flat=True)) == {Vote.Status.COUNTED}
    assert not AuditEntry.objects.exists()

    admin_client.post(changelist, {**chosen, "post": "yes", "reason": "Same phone, two cookies"})
    assert {v.status for v in Vote.objects.filter(nominee=nominee)} == {Vote.Status.VOID}
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.count, entry.reason) == (
        AuditEntry.Action.VOID,
        organizer,
        2,
        "Same phone, two cookies",
    )


def test_voiding_every_vote_matching_a_filter_is_confirmed_as_a_whole(admin_client, field):
    nominee, _second = field
    some = Vote.objects.filter(nominee=nominee).first()
    changelist = reverse("admin:voting_vote_changelist") + f"?nominee__id__exact={nominee.pk}"
    chosen = {
        "action": "quarantine",
        ACTION_CHECKBOX_NAME: [str(some.pk)],
        "select_across": "1",
        "index": "0",
    }
    confirm = admin_client.post(changelist, chosen)
    assert "This applies to 2 votes" in confirm.text
    assert 'name="select_across" value="1"' in confirm.text
    admin_client.post(changelist, {**chosen, "post": "yes"})
    statuses = dict(Vote.objects.values_list("nominee_id", "status"))
    assert statuses[nominee.pk] == Vote.Status.QUARANTINED
    assert statuses[field[1].pk] == Vote.Status.COUNTED


def test_hiding_nominees_asks_first_then_logs_it(admin_client, organizer, field):
    nominee, _second = field
    changelist = reverse("admin:awards_nominee_changelist")
    chosen = {"action": "make_inactive", ACTION_CHECKBOX_NAME: [str(nominee.pk)], "index": "0"}
    confirm = admin_client.post(changelist, chosen)
    assert "Hide these nominees?" in confirm.text
    assert Nominee.objects.get(pk=nominee.pk).is_active
    admin_client.post(changelist, {**chosen, "post": "yes"})
    assert not Nominee.objects.get(pk=nominee.pk).is_active
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.detail["ids"]) == (
        AuditEntry.Action.HIDE_NOMINEES,
        organizer,
        [nominee.pk],
    )


def test_every_laurel_admin_action_is_confirmed_before_it_changes_anything(
    admin_client, organizer, rf, field
):
    """A first POST of any action on the catalogue or the votes shows a page and changes nothing."""

    def state():
        return (
            list(Vote.objects.order_by("pk").values_list("status", flat=True)),
            list(Nominee.objects.order_by("pk").values_list("is_active", "stats_key_version")),
            Category.objects.count(),
            AuditEntry.objects.count(),
        )

    before = state()
    request = rf.get("/")
    request.user = organizer
    for model, model_admin in laurel_admins():
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        pks = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
        for action in model_admin.get_actions(request):
            response = admin_client.post(
                changelist, {"action": action, ACTION_CHECKBOX_NAME: pks, "index": "0"}
            )
            assert response.status_code == 200, (model, action)
            assert state() == before, (model, action)


def test_deleting_a_category_on_the_award_page_is_audited(admin_client, organizer, award):
    empty = CategoryFactory(award=award, name="Empty")
    url = reverse("admin:awards_award_change", args=[award.pk])
    data = form_data(admin_client.get(url))
    data.update({"categories-0-DELETE": "on"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not Category.objects.filter(pk=empty.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.detail["names"]) == (
        AuditEntry.Action.DELETE,
        organizer,
        ["Empty"],
    )
