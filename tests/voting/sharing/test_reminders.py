"""A daily reminder to vote, without email: an .ics file with a daily event at the time the voter
picks (or voted), linking back to the vote page, until voting closes."""

import re
import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import resolve
from django.utils import timezone
from icalendar import Calendar

from awards.models import Award
from tests.ballots import vote_like_a_browser
from voting.models import Ballot

pytestmark = pytest.mark.django_db
REMINDER = "/sbia/ada-lovelace/reminder.ics"
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture
def closes(nominee):
    """Voting closes in ten days, on the minute."""
    moment = (timezone.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    Award.objects.filter(pk=nominee.award_id).update(voting_closes=moment)
    return moment


def event_of(response):
    assert response.status_code == 200, response.content
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    return event


def test_reminder_is_a_daily_event_until_voting_closes(client, nominee, closes):
    event = event_of(client.get(REMINDER, {"at": "08:30"}))
    rule = event["RRULE"]
    assert rule["FREQ"] == ["DAILY"]
    assert rule["UNTIL"] == [closes.astimezone(UTC)]
    assert str(event["SUMMARY"]) == "Vote for Ada Lovelace"


def test_reminder_is_at_the_chosen_time_in_the_awards_time_zone(client, nominee, closes):
    start = event_of(client.get(REMINDER, {"at": "08:30"})).decoded("DTSTART")
    assert start.tzinfo.key == "America/Los_Angeles"
    assert start.time() == time(8, 30)
    now = timezone.now()
    assert now < start <= now + timedelta(days=1)


def test_reminder_follows_a_time_zone_the_voter_names(client, nominee, closes):
    start = event_of(client.get(REMINDER, {"at": "19:05", "tz": "Europe/Paris"})).decoded("DTSTART")
    assert (start.tzinfo.key, start.time()) == ("Europe/Paris", time(19, 5))


def test_reminder_without_a_time_is_at_the_time_the_voter_voted(client, nominee, closes):
    vote_like_a_browser(nominee, client)
    voted = Ballot.objects.get().last_vote_at.astimezone(LOS_ANGELES)
    start = event_of(client.get(REMINDER)).decoded("DTSTART")
    assert start.time() == voted.time().replace(second=0, microsecond=0)
    assert start > timezone.now()


def test_reminder_without_a_time_or_a_vote_is_at_the_present_time(client, nominee, closes):
    before = timezone.now().astimezone(LOS_ANGELES).replace(second=0, microsecond=0)
    response = client.get(REMINDER)
    start = event_of(response).decoded("DTSTART")
    assert start.time() in {before.time(), (before + timedelta(minutes=1)).time()}
    assert not response.cookies  # asking for a reminder mints no voter


def test_reminder_links_back_to_the_vote_page(client, nominee, closes):
    event = event_of(client.get(REMINDER, {"at": "08:30"}))
    url = "http://testserver/sbia/ada-lovelace/?ref=reminder"
    assert str(event["URL"]) == url
    assert url in str(event["DESCRIPTION"])
    assert "Experts" in str(event["DESCRIPTION"])


def test_reminder_alarms_ten_minutes_before(client, nominee, closes):
    event = event_of(client.get(REMINDER, {"at": "08:30"}))
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-10)


def test_the_same_reminder_has_the_same_uid(client, nominee, closes):
    first = event_of(client.get(REMINDER, {"at": "08:30"}))["UID"]
    assert event_of(client.get(REMINDER, {"at": "08:30"}))["UID"] == first
    assert event_of(client.get(REMINDER, {"at": "09:30"}))["UID"] != first


def test_reminder_is_a_calendar_file_to_download(client, nominee, closes):
    response = client.get(REMINDER, {"at": "08:30"})
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="vote-for-ada-lovelace.ics"'
    calendar = Calendar.from_ical(response.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Los_Angeles"]


@pytest.mark.parametrize("at", ["25:00", "8h30", "noon", "12:60", "<script>"])
def test_a_bad_time_is_a_clear_400(client, nominee, at):
    response = client.get(REMINDER, {"at": at})
    assert response.status_code == 400
    assert "HH:MM" in response.text


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../../etc/passwd", "UTC+2"])
def test_an_unknown_time_zone_is_a_clear_400(client, nominee, tz):
    response = client.get(REMINDER, {"at": "08:30", "tz": tz})
    assert response.status_code == 400
    assert "not a known time zone" in response.text


def test_no_reminder_once_voting_has_closed(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(minutes=1),
    )
    response = client.get(REMINDER, {"at": "08:30"})
    assert response.status_code == 410
    assert "has closed" in response.text


def test_no_reminder_when_voting_closes_before_the_first_one(client, nominee):
    closing = timezone.now() + timedelta(minutes=30)
    Award.objects.filter(pk=nominee.award_id).update(voting_closes=closing)
    at = (closing + timedelta(minutes=15)).astimezone(LOS_ANGELES)
    response = client.get(REMINDER, {"at": f"{at:%H:%M}"})
    assert response.status_code == 410
    assert "before the first reminder" in response.text


def test_reminders_start_when_voting_opens(client, nominee):
    opens = datetime(2031, 3, 2, 9, 0, tzinfo=LOS_ANGELES)
    Award.objects.filter(pk=nominee.award_id).update(
        voting_opens=opens, voting_closes=opens + timedelta(days=5)
    )
    start = event_of(client.get(REMINDER, {"at": "08:30"})).decoded("DTSTART")
    assert start == datetime(2031, 3, 3, 8, 30, tzinfo=LOS_ANGELES)
    start = event_of(client.get(REMINDER, {"at": "09:30"})).decoded("DTSTART")
    assert start == datetime(2031, 3, 2, 9, 30, tzinfo=LOS_ANGELES)


def test_the_nominee_page_offers_the_reminder(client, nominee, closes):
    page = client.get(nominee.get_absolute_url())
    assert resolve(page.context["reminder_url"]).url_name == "reminder"
    assert page.context["reminder_url"] == REMINDER
    assert f'action="{REMINDER}"' in page.text
    assert 'name="at"' in page.text and 'name="tz"' in page.text


def test_the_reminder_time_zone_is_chosen_from_a_list_with_the_awards_preselected(
    client, nominee, closes
):
    page = client.get(nominee.get_absolute_url()).text
    select = page.split('<select id="reminder-tz" name="tz"', 1)[1].split("</select>", 1)[0]
    assert re.search(
        r'<option value="America/New_York">UTC\N{MINUS SIGN}0[45]:00 · New York<', select
    )
    award_zone = nominee.award.time_zone
    assert f'<option value="{award_zone}" selected>' in select
    assert select.count("<option") >= 70
    assert 'name="tz" value=' not in page  # no free-text box


def test_every_listed_time_zone_makes_a_reminder(client, nominee, closes):
    from voting.sharing.share import REMINDER_ZONES

    for zone in REMINDER_ZONES:
        assert client.get(REMINDER, {"at": "09:00", "tz": zone}).status_code == 200, zone
