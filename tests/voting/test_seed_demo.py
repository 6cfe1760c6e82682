import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from awards.models import Award, Nominee

pytestmark = pytest.mark.django_db


def seed(capsys) -> str:
    call_command("seed_demo")
    return capsys.readouterr().out


def test_demo_award_has_six_categories_and_984_nominees(capsys):
    output = seed(capsys)
    award = Award.objects.get(slug="sbia-2012")
    counts = {c.slug: c.nominees.count() for c in award.categories.all()}
    assert sum(counts.values()) == 984
    assert list(counts) == [
        "journalists",
        "news-outlets",
        "corporations",
        "leaders",
        "experts",
        "apps",
    ]
    assert counts["experts"] == 320
    assert "984 in all" in output


def test_demo_award_is_open_now_and_closes_at_1159_pm_los_angeles():
    call_command("seed_demo")
    award = Award.objects.get(slug="sbia-2012")
    from django.utils import timezone

    assert award.is_open(timezone.now())
    closes = award.local(award.voting_closes)
    assert (closes.hour, closes.minute) == (23, 59)
    assert award.time_zone == "America/Los_Angeles"


def test_seeding_twice_changes_nothing(capsys):
    seed(capsys)
    first = list(Nominee.objects.order_by("slug").values_list("slug", "name", "twitter_handle"))
    output = seed(capsys)
    second = list(Nominee.objects.order_by("slug").values_list("slug", "name", "twitter_handle"))
    assert first == second
    assert len(second) == 984
    assert "0 nominees created, 984 updated" in output


def test_demo_prints_working_organizer_credentials(client, capsys):
    output = seed(capsys)
    match = re.search(r"username: (\S+)  password: (\S+)", output)
    assert match, output
    assert client.login(username=match[1], password=match[2])
    page = client.get(reverse("admin:awards_nominee_changelist"))
    if settings.STAFF_TWO_FACTOR:  # real mode: the password, then the authenticator app
        assert "authenticator app" in output
        assert page["Location"].startswith(reverse("two-factor"))
    else:
        assert page.status_code == 200


def test_demo_names_and_handles_are_unique():
    call_command("seed_demo")
    names = list(Nominee.objects.values_list("name", flat=True))
    assert len(set(names)) == len(names) == 984


def test_the_demo_rules_never_promise_joint_winners_that_its_blend_would_split(client):
    call_command("seed_demo")
    rules = client.get("/sbia-2012/rules/").text
    assert "joint winners" not in rules
    assert "ties are broken as the formula above says" in rules


def test_the_demo_names_nominees_as_they_write_themselves(client):
    call_command("seed_demo")
    li_na = Nominee.objects.get(award__slug="sbia-2012", name="李娜")
    assert li_na.slug == "li-na"
    assert Nominee.objects.filter(name="Søren Wójcik", slug="soren-wojcik").exists()
    assert "李娜" in client.get("/sbia-2012/?q=%E6%9D%8E").text
    assert "李娜" in client.get(f"/sbia-2012/{li_na.slug}/").text


def test_reseeding_a_database_seeded_before_keeps_the_renamed_rows(capsys):
    call_command("seed_demo")
    # As an older seed left it: the generated name where "李娜" is now.
    Nominee.objects.filter(name="李娜").update(name="Chen Okafor II", slug="chen-okafor-ii")
    before = Nominee.objects.get(slug="chen-okafor-ii").pk
    call_command("seed_demo")
    assert Nominee.objects.filter(award__slug="sbia-2012").count() == 984
    assert Nominee.objects.get(pk=before).name == "李娜"
