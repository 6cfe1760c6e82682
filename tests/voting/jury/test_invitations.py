"""Organizers invite judges: a new account sets its own password from a one-time link; an
existing account just gains the role; removing a judge takes their scores out of the blend."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import strip_tags

from awards.models import AwardStaff
from voting.jury.services import blended_results
from voting.models import AuditEntry

pytestmark = pytest.mark.django_db
LINK = re.compile(r'value="(http://testserver/admin/jury/welcome/[^"]+)"')


@pytest.fixture
def desk(organizer):
    client = Client()
    client.force_login(organizer)
    return client


def invite(desk, jury, **fields):
    data = {"name": "Søren Wójcik", "email": "soren@example.com", **fields}
    return desk.post(f"/admin/results/{jury.award.pk}/judges/", data)


def test_a_new_judge_sets_a_password_from_the_link_and_signs_in(desk, jury):
    response = invite(desk, jury, categories=[jury.apps.pk])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    user = get_user_model().objects.get(email="soren@example.com")
    assert (user.username, user.first_name, user.is_staff) == ("soren", "Søren", True)
    assert not user.has_usable_password()
    staff = AwardStaff.objects.get(user=user)
    assert staff.role == "judge" and list(staff.categories.all()) == [jury.apps]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.INVITE_JUDGE)
    assert entry.detail == {"judge": user.pk, "new_account": True, "categories": [jury.apps.pk]}

    link = LINK.search(response.text)[1].removeprefix("http://testserver")
    judge = Client()
    form_page = judge.get(link, follow=True)
    assert "Welcome, Søren Wójcik" in form_page.text
    password = "a long pass phrase for the jury"
    done = judge.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )
    assert "sign in to score the finalists" in done.text
    assert judge.login(username="soren", password=password)
    finalists = judge.get(f"/admin/jury/{jury.award.pk}/")
    if settings.STAFF_TWO_FACTOR:  # real mode: a judge's second factor comes first
        assert finalists.status_code == 302 and "/admin/two-factor/" in finalists["Location"]
    else:
        assert finalists.status_code == 200
    # The link works once.
    assert "used already" in Client().get(link, follow=True).text


def test_an_existing_account_gains_the_role_and_no_link(desk, jury, django_user_model):
    django_user_model.objects.create_user("ann", "ann@example.com", "her own password")
    response = invite(desk, jury, email="ANN@example.com", name="Ann")
    assert "They already have an account" in strip_tags(response.text)
    assert not LINK.search(response.text)
    assert AwardStaff.objects.get(user__username="ann").role == "judge"


def test_someone_with_a_role_on_the_award_already_is_refused(desk, jury):
    response = invite(desk, jury, email=jury.judge.email)
    assert response.status_code == 409
    assert "already has a role on this award" in response.text


def test_bad_input_is_a_400_with_the_reason(desk, jury):
    response = invite(desk, jury, email="not an email")
    assert response.status_code == 400
    assert "Enter a valid email address" in response.text


def test_removing_a_judge_takes_their_scores_out_of_the_blend(desk, jury):
    jury.score(jury.second, jury.li, 10, 5)
    staff = AwardStaff.objects.get(user=jury.second)
    response = desk.post(f"/admin/results/{jury.award.pk}/judges/{staff.pk}/remove/")
    assert response.status_code == 302
    assert not AwardStaff.objects.filter(pk=staff.pk).exists()
    li = {r.nominee_id: r for r in blended_results(jury.award)[jury.experts.pk]}[jury.li.pk]
    assert li.judges == 0
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REMOVE_JUDGE).exists()


def test_only_the_awards_organizers_manage_its_jury(jury):
    client = Client()
    client.force_login(jury.judge)
    assert client.get(f"/admin/results/{jury.award.pk}/judges/").status_code == 403
