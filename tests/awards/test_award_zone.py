from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from awards.forms import AwardForm
from awards.models import Award

pytestmark = pytest.mark.django_db

LA_9AM_MARCH_2 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles (PST)


def window(opens="2026-03-02 09:00", closes="2026-04-01 23:59", zone="America/Los_Angeles"):
    return {
        "name": "Zoned Awards",
        "slug": "zoned",
        "time_zone": zone,
        "voting_opens": opens,
        "voting_closes": closes,
    }


def admin_form_data(response) -> dict:
    """What the admin page would post back unchanged: its form's values and empty inlines."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        widget_data = field.widget.format_value(value) if hasattr(field.widget, "widgets") else None
        if widget_data is not None:
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = field.widget.widgets[index].format_value(part)
        else:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[management.add_prefix(name)] = management[name].value()
    return data


def test_times_are_entered_in_the_awards_zone_whatever_the_organizers():
    with timezone.override("Asia/Tokyo"):
        form = AwardForm(data=window())
        assert form.is_valid(), form.errors
    award = form.save()
    assert award.voting_opens == LA_9AM_MARCH_2
    assert (
        "In the award's time zone (America/Los_Angeles)." in form.fields["voting_opens"].help_text
    )


def test_a_new_awards_submitted_zone_decides():
    form = AwardForm(data=window(zone="Europe/Paris"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["voting_opens"] == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_times_are_shown_as_the_awards_clock_time(award):
    award.voting_opens = LA_9AM_MARCH_2
    award.save()
    with timezone.override("Asia/Tokyo"):
        form = AwardForm(instance=award)
        assert form["voting_opens"].value() == datetime(2026, 3, 2, 9, 0)


def test_a_window_that_closes_before_it_opens_is_refused_clearly():
    form = AwardForm(data=window(closes="2026-03-02 08:00"))
    assert not form.is_valid()
    assert form.errors["voting_closes"] == [
        "Voting must close after it opens (2026-03-02 09:00, America/Los_Angeles)."
    ]


def test_an_unknown_zone_is_refused_clearly():
    form = AwardForm(data=window(zone="Mars/Olympus_Mons"))
    assert not form.is_valid()
    assert form.errors["time_zone"] == [
        "Mars/Olympus_Mons is not a known time zone; use a name such as America/Los_Angeles."
    ]


def test_the_admin_shows_and_saves_times_in_the_awards_zone(client, organizer, award, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # the organizer's own zone, not the award's
    award.voting_opens = LA_9AM_MARCH_2
    award.save()
    client.force_login(organizer)
    page = client.get(reverse("admin:awards_award_change", args=[award.pk]))
    html = page.content.decode()
    assert 'name="voting_opens_1" value="09:00:00"' in html
    assert "time zone (America/Los_Angeles)." in html
    data = admin_form_data(page) | {"voting_opens_1": "10:30:00"}
    response = client.post(reverse("admin:awards_award_change", args=[award.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    award.refresh_from_db()
    assert award.voting_opens == datetime(2026, 3, 2, 18, 30, tzinfo=UTC)
    listing = client.get(reverse("admin:awards_award_changelist")).content.decode()
    assert "(America/Los_Angeles)" in listing


def test_the_admin_refuses_a_bad_window_with_a_message(client, organizer, award):
    client.force_login(organizer)
    page = client.get(reverse("admin:awards_award_change", args=[award.pk]))
    data = admin_form_data(page) | {"voting_closes_0": "2000-01-01", "time_zone": "Nowhere/City"}
    response = client.post(reverse("admin:awards_award_change", args=[award.pk]), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Nowhere/City is not a known time zone" in errors["time_zone"][0]
    assert errors["voting_closes"][0].startswith("Voting must close after it opens")
    assert Award.objects.get(pk=award.pk).voting_closes == award.voting_closes


def test_the_add_page_reads_times_in_the_zone_it_submits(client, organizer, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    client.force_login(organizer)
    page = client.get(reverse("admin:awards_award_add"))
    assert "time zone (America/Los_Angeles)." in page.content.decode()
    data = admin_form_data(page) | {
        "name": "Paris Awards",
        "slug": "paris",
        "time_zone": "Europe/Paris",
        "voting_opens_0": "2026-03-02",
        "voting_opens_1": "09:00:00",
        "voting_closes_0": "2026-04-01",
        "voting_closes_1": "23:59:00",
    }
    response = client.post(reverse("admin:awards_award_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Award.objects.get(slug="paris").voting_opens == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
