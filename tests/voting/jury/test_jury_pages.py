"""The judges' area: a judge sees their finalists and scores one from a phone-sized form;
nobody else gets in."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from awards.models import Award
from voting.jury.services import conflict_declare
from voting.models import AuditEntry, JuryConflict, JuryScore

pytestmark = pytest.mark.django_db


@pytest.fixture
def judge_client(jury):
    client = Client()
    client.force_login(jury.judge)
    return client


def test_a_judge_lands_on_their_finalists(judge_client, jury):
    response = judge_client.get("/admin/jury/", follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/jury/{jury.award.pk}/"
    text = response.text
    for name in ("Søren Wójcik", "李娜 Zhang", "Ada Lovelace", "Chatty"):
        assert name in text
    assert "Nobody Yet" not in text
    assert "0 of 4" in text


def test_a_judge_scores_a_finalist_and_sees_it_done(judge_client, jury):
    url = f"/admin/jury/{jury.award.pk}/nominees/{jury.li.pk}/"
    form = judge_client.get(url)
    assert form.status_code == 200 and "李娜 Zhang" in form.text
    saved = judge_client.post(
        url, {f"criterion_{jury.expertise.pk}": "9", f"criterion_{jury.reach.pk}": "4"}
    )
    assert saved.status_code == 302
    assert JuryScore.objects.filter(judge=jury.judge, nominee=jury.li).count() == 2
    assert "1 of 4" in judge_client.get(f"/admin/jury/{jury.award.pk}/").text
    again = judge_client.get(url).text
    assert 'value="9" ' in again and "checked" in again


def test_an_incomplete_score_is_refused_with_what_is_missing(judge_client, jury):
    url = f"/admin/jury/{jury.award.pk}/nominees/{jury.li.pk}/"
    response = judge_client.post(url, {f"criterion_{jury.expertise.pk}": "9"})
    assert response.status_code == 400
    assert "Reach" in response.text
    response = judge_client.post(url, {f"criterion_{jury.expertise.pk}": "11"})
    assert response.status_code == 400
    assert not JuryScore.objects.exists()


def test_a_judge_declares_a_conflict_from_the_form(judge_client, jury):
    url = f"/admin/jury/{jury.award.pk}/nominees/{jury.ada.pk}/"
    response = judge_client.post(url, {"conflict": "1", "note": "We work together"})
    assert response.status_code == 302
    assert JuryConflict.objects.get().note == "We work together"
    assert "Excused (conflict)" in judge_client.get(f"/admin/jury/{jury.award.pk}/").text
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CONFLICT).count() == 1


def test_after_the_round_closes_scores_cannot_change(judge_client, jury):
    Award.objects.filter(pk=jury.award.pk).update(
        jury_closes=jury.award.voting_closes + timedelta(minutes=30)
    )
    url = f"/admin/jury/{jury.award.pk}/nominees/{jury.li.pk}/"
    assert "not open" in judge_client.get(url).text
    response = judge_client.post(
        url, {f"criterion_{jury.expertise.pk}": "9", f"criterion_{jury.reach.pk}": "4"}
    )
    assert response.status_code == 409
    assert not JuryScore.objects.exists()


def test_other_staff_and_other_awards_judges_are_kept_out(jury, django_user_model):
    moderator = django_user_model.objects.create_user("mod", "m@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(moderator)
    assert client.get(f"/admin/jury/{jury.award.pk}/").status_code == 404
    assert client.get("/admin/jury/").status_code == 403
    assert client.get(f"/admin/jury/{jury.award.pk}/nominees/{jury.li.pk}/").status_code == 404
    anonymous = Client().get(f"/admin/jury/{jury.award.pk}/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_a_non_finalist_has_no_score_page(judge_client, jury):
    url = f"/admin/jury/{jury.award.pk}/nominees/{jury.nobody.pk}/"
    assert judge_client.get(url).status_code == 404


def test_judges_give_a_second_factor_like_organizers(jury, settings):
    from awards.two_factor import two_factor_needed

    settings.STAFF_TWO_FACTOR = True
    assert two_factor_needed(jury.judge)


def test_the_dashboard_shows_jury_progress_and_its_deadline_in_the_awards_zone(jury, organizer):
    jury.score(jury.judge, jury.li, 8, 4)
    client = Client()
    client.force_login(organizer)
    text = strip_tags(client.get(f"/admin/dashboard/{jury.award.pk}/").text)
    assert "1 of 8" in text
    closes = timezone.localtime(jury.award.jury_closes, jury.award.zone)
    assert closes.strftime("%b %-d, %Y, %H:%M") in text and "PST" in text
    assert "judge" in text and "second" in text


def test_the_results_csv_carries_the_jury_and_the_blend(jury, organizer):
    jury.score(jury.judge, jury.li, 10, 5)
    client = Client()
    client.force_login(organizer)
    response = client.get(f"/admin/exports/{jury.award.pk}/results.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    li = next(r for r in rows if r["scope"] == "Experts" and r["slug"] == "li-na-zhang")
    assert (li["judges"], li["jury_score"], li["jury_rank"]) == ("1", "100.000", "1")
    assert li["blended_rank"] == "1"
    overall = next(r for r in rows if r["scope"] == "overall" and r["slug"] == "li-na-zhang")
    assert overall["jury_score"] == ""


def test_the_admins_home_leads_a_judge_to_their_finalists(judge_client, jury, organizer):
    home = judge_client.get("/admin/").text
    assert f'href="/admin/jury/{jury.award.pk}/"' in home
    # Not told, under that link, that they may do nothing.
    assert "permission" not in home
    other = Client()
    other.force_login(organizer)
    assert "/admin/jury/" not in other.get("/admin/").text


def test_a_jury_without_a_closing_time_is_refused_with_a_message(jury):
    from awards.forms import AwardForm

    data = {
        "name": jury.award.name,
        "slug": jury.award.slug,
        "time_zone": jury.award.time_zone,
        "voting_opens": "2026-01-01 09:00",
        "voting_closes": "2026-02-01 23:59",
        "jury_weight_percent": "60",
        "jury_closes": "",
    }
    form = type(
        "JuryForm",
        (AwardForm,),
        {"Meta": type("Meta", (AwardForm.Meta,), {"fields": [*data]})},
    )(data, instance=jury.award)
    assert not form.is_valid()
    assert "With a jury, set when its round closes" in str(form.errors)


def test_the_rules_state_the_formula_the_round_and_the_criteria(jury):
    text = strip_tags(Client().get("/sbia/rules/").text).replace("&#x27;", "'")
    assert "40% their share of the public vote" in text
    assert "60% the jury's score" in text
    assert "Expertise: 1 to 10, weight 3" in text and "Reach: 1 to 5, weight 1" in text


def test_organizers_see_every_judges_score_and_the_csv_carries_them(jury, organizer):
    jury.score(jury.judge, jury.li, 10, 1)
    conflict_declare(
        award=jury.award, judge=jury.second, nominee=jury.li, note="", now=timezone.now()
    )
    client = Client()
    client.force_login(organizer)
    page = client.get(f"/admin/results/{jury.award.pk}/jury/")
    assert page.status_code == 200
    row = strip_tags(page.text.split("李娜 Zhang", 1)[1].split("</tr>", 1)[0])
    # Expertise 10/10 weighs 3, Reach 1/5 weighs 1: (3 + 0.2) / 4 = 80.
    assert "80.0" in row and "Excused" in row
    response = client.get(f"/admin/exports/{jury.award.pk}/results.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    li = next(r for r in rows if r["scope"] == "Experts" and r["slug"] == "li-na-zhang")
    assert (li["judge judge"], li["judge second"]) == ("80.000", "excused")
    ada = next(r for r in rows if r["scope"] == "Experts" and r["slug"] == "ada-lovelace")
    assert (ada["judge judge"], ada["judge second"]) == ("", "")
