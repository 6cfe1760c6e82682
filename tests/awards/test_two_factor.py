"""Two-factor sign-in, as the people it protects and the people it stops would meet it: a
superuser or organizer with a password alone reaches no admin page; the first time they enrol
an authenticator app and get recovery codes; a recovery code works once; moderators are not
asked; a stolen password without the phone gets nowhere."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from awards.models import AwardStaff

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.STAFF_TWO_FACTOR = True


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "b@example.com", PASSWORD)


def signed_in(user) -> Client:
    """A browser that gave the password, and only the password."""
    browser = Client()
    answer = browser.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 302, answer.text
    return browser


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrolled(browser: Client, user) -> list[str]:
    browser.get(reverse("two-factor"))
    device = TOTPDevice.objects.get(user=user)
    done = browser.post(reverse("two-factor"), {"code": code_of(device), "next": "/admin/"})
    assert "Your recovery codes" in done.text
    return [line.split("</code>")[0] for line in done.text.split("<li><code>")[1:]]


def test_a_password_alone_reaches_no_admin_page(boss, award):
    browser = signed_in(boss)
    for page in (reverse("admin:index"), reverse("award-dashboard", args=[award.pk])):
        answer = browser.get(page)
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("two-factor") + "?next=")


def test_the_first_time_the_app_is_enrolled_and_recovery_codes_are_shown_once(boss):
    browser = signed_in(boss)
    page = browser.get(reverse("two-factor"))
    assert "Set up two-factor sign-in" in page.text and 'class="laurel-qr"' in page.text
    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    wrong = browser.post(reverse("two-factor"), {"code": "000000"})
    assert "not right" in wrong.text and browser.get(reverse("admin:index")).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):  # a person tries again
        codes = enrolled(browser, boss)
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert browser.get(reverse("admin:index")).status_code == 200
    # Shown once: the page now sends a verified account on.
    assert browser.get(reverse("two-factor"))["Location"] == reverse("admin:index")


def test_a_later_sign_in_needs_the_apps_code_or_a_recovery_code_once(boss):
    codes = enrolled(signed_in(boss), boss)
    browser = signed_in(boss)
    page = browser.get(reverse("two-factor"))
    assert "Enter the six digits" in page.text and "laurel-qr" not in page.text
    answer = browser.post(reverse("two-factor"), {"code": codes[0], "next": "/admin/"})
    assert answer["Location"] == "/admin/"
    again = signed_in(boss)
    assert "not right" in again.post(reverse("two-factor"), {"code": codes[0]}).text
    assert again.get(reverse("admin:index")).status_code == 302


def test_a_stolen_password_cannot_guess_its_way_in(boss):
    enrolled(signed_in(boss), boss)
    thief = signed_in(boss)
    for guess in ("123456", "000000", "111111", "654321"):
        thief.post(reverse("two-factor"), {"code": guess})
    assert thief.get(reverse("admin:index")).status_code == 302


def test_organizers_are_asked_and_moderators_are_not(django_user_model, award):
    organizer = django_user_model.objects.create_user("olga", password=PASSWORD, is_staff=True)
    AwardStaff.objects.create(award=award, user=organizer, role=AwardStaff.Role.ORGANIZER)
    moderator = django_user_model.objects.create_user("mo", password=PASSWORD, is_staff=True)
    AwardStaff.objects.create(award=award, user=moderator, role=AwardStaff.Role.MODERATOR)
    assert signed_in(organizer).get(reverse("admin:index")).status_code == 302
    assert signed_in(moderator).get(reverse("admin:index")).status_code == 200


def test_the_page_after_the_code_is_never_another_site(boss):
    codes = enrolled(signed_in(boss), boss)
    browser = signed_in(boss)
    answer = browser.post(
        reverse("two-factor"), {"code": codes[1], "next": "https://evil.example/"}
    )
    assert answer["Location"] == reverse("admin:index")


def test_embedded_mode_signs_in_with_the_password(boss, settings):
    settings.STAFF_TWO_FACTOR = False
    assert signed_in(boss).get(reverse("admin:index")).status_code == 200
