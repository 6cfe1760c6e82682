"""axe-core, in real Chromium, on every admin page Laurel adds or customises: no serious or
critical violation. axe-core comes with axe-playwright-python (no CDN)."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.ballots import cast_vote
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.models import AuditEntry, Vote
from voting.standings.services import standings_recompute
from voting.vocabulary import Voter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SERIOUS = {"serious", "critical"}
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def catalogue(nominee, experts):
    for _index in range(3):
        NomineeFactory(category=CategoryFactory(award=nominee.award))
    for index in range(4):
        voter = Voter(f"{index:032d}", "203.0.113.9", "Mozilla/5.0 (X11) Script")
        cast_vote(nominee=nominee, voter=voter, now=timezone.now())
    Vote.objects.update(new_voter=True)
    standings_recompute(award_id=nominee.award_id)
    AuditEntry.objects.create(award=nominee.award, action="auto_quarantine", count=2)
    return nominee


@pytest.fixture
def closed(db):
    """An award whose voting has closed, with votes: its results wait to be published."""
    now = timezone.now()
    award = AwardFactory(
        name="Closed Awards",
        voting_opens=now - timedelta(days=9),
        voting_closes=now - timedelta(days=1),
    )
    nominees = [NomineeFactory(category=CategoryFactory(award=award)) for _ in range(3)]
    for index, nominee in enumerate(nominees):
        voter = Voter(f"c{index:031d}", f"198.51.100.{index + 1}", "Mozilla/5.0")
        cast_vote(nominee=nominee, voter=voter, now=now - timedelta(days=2))
    standings_recompute(award_id=award.pk)
    return award


@pytest.fixture(params=list(SCREENS))
def desk(request, browser, settings, live_server, organizer):
    """A browser signed in as the organizer (a superuser), on a desktop and a phone screen."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(organizer)
    context = browser.new_context(viewport=SCREENS[request.param], locale="en-US")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    yield context
    context.close()


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def scan(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response.status < 400, (url, response.status)
    return [f"{url}: {found}" for found in serious_violations(page)]


def laurel_admin_pages(nominee) -> list[str]:
    vote = Vote.objects.first()
    return [
        reverse("admin:index"),
        reverse("admin:awards_award_changelist"),
        reverse("admin:awards_award_add"),
        reverse("admin:awards_award_change", args=[nominee.award_id]),
        reverse("admin:awards_category_changelist"),
        reverse("admin:awards_category_change", args=[nominee.category_id]),
        reverse("admin:awards_nominee_changelist"),
        reverse("admin:awards_nominee_add"),
        reverse("admin:awards_nominee_change", args=[nominee.pk]),
        reverse("admin:voting_vote_changelist"),
        reverse("admin:voting_vote_change", args=[vote.pk]),
        reverse("admin:voting_standing_changelist"),
        reverse("admin:voting_auditentry_changelist"),
        reverse("integrity-review", args=[nominee.award_id]),
        reverse("admin:awards_nominee_import"),
        reverse("award-dashboard", args=[nominee.award_id]),
        reverse("results-review", args=[nominee.award_id]),
    ]


def test_laurels_admin_pages_have_no_serious_accessibility_violations(
    desk, live_server, catalogue, closed
):
    page = desk.new_page()
    found = []
    category = closed.categories.first()
    at = closed.local(timezone.now()).strftime("%Y-%m-%dT%H:%M")
    results = [
        reverse("results-review", args=[closed.pk]),
        reverse("results-preview", args=[closed.pk]),
        f"{reverse('results-publish', args=[closed.pk])}?publish_at={at}",
        reverse("results-category", args=[closed.pk, category.pk]),
    ]
    for path in laurel_admin_pages(catalogue) + results:
        found += scan(page, live_server.url + path)
    assert not found, "\n".join(found)


def test_the_action_confirmation_page_has_no_serious_violations(desk, live_server, catalogue):
    page = desk.new_page()
    page.goto(live_server.url + reverse("admin:voting_vote_changelist"))
    page.locator(f"input[name='{ACTION_CHECKBOX_NAME}']").first.check()
    page.select_option("select[name='action']", "void")
    with page.expect_navigation():
        page.get_by_role("button", name="Run").click()
    assert "Void these votes?" in page.content()
    assert serious_violations(page) == []


def test_the_login_and_lockout_pages_have_no_serious_violations(browser, live_server, organizer):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    found = scan(page, live_server.url + reverse("admin:login"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.fill("input[name='username']", "organizer")
        page.fill("input[name='password']", "wrong")
        with page.expect_navigation():
            page.locator("input[type='submit'], button[type='submit']").first.click()
    assert "Too many failed logins" in page.content()
    found += [f"lockout: {v}" for v in serious_violations(page)]
    context.close()
    assert not found, "\n".join(found)


def test_the_import_preview_and_cluster_confirmation_have_no_serious_violations(
    desk, live_server, catalogue, tmp_path
):
    upload = tmp_path / "nominees.csv"
    upload.write_text(f"name,category\nAda Byron,{catalogue.category.name}\n")
    page = desk.new_page()
    page.goto(live_server.url + reverse("admin:awards_nominee_import"))
    page.get_by_label("Award").select_option(label=catalogue.award.name)
    page.get_by_label("File to import").set_input_files(str(upload))
    page.get_by_label("Format").select_option(label="csv")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit").click()
    assert "Ada Byron" in page.content()
    found = [f"import preview: {v}" for v in serious_violations(page)]

    page.goto(live_server.url + reverse("integrity-review", args=[catalogue.award_id]))
    act = page.locator("details.laurel-act").first
    act.locator("summary").click()
    act.locator("input[name='reason']").fill("Four new voters from one address")
    with page.expect_navigation():
        act.get_by_role("button", name="Review the change").click()
    assert "Confirm the change" in page.content()
    found += [f"cluster confirmation: {v}" for v in serious_violations(page)]
    assert not found, "\n".join(found)


def password_step(page, server_url: str, wait_until: str = "load") -> None:
    """The organizer's password, the first of the two steps."""
    page.goto(server_url + reverse("admin:login"))
    page.get_by_label("Username").fill("organizer")
    page.get_by_label("Password").fill("pw-organizer")
    with page.expect_navigation(wait_until=wait_until):
        page.get_by_role("button", name="Log in").click()


def test_a_superuser_on_a_phone_enrols_an_authenticator_app_on_accessible_pages(
    browser, live_server, organizer, settings
):
    """The organizer's first sign-in in real mode: password, QR code, six digits, recovery
    codes, the admin."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.STAFF_TWO_FACTOR = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    password_step(page, live_server.url)
    assert "/two-factor/" in page.url
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    found = [f"enrol: {v}" for v in serious_violations(page)]
    device = TOTPDevice.objects.get(user=organizer)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_role("textbox", name="Code").fill(f"{code:06d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    assert page.locator(".laurel-codes li").count() == 10
    found += [f"recovery codes: {v}" for v in serious_violations(page)]
    with page.expect_navigation():
        page.get_by_role("link", name="Continue").click()
    assert page.url == live_server.url + reverse("admin:index")
    context.close()
    assert not found, "\n".join(found)


@pytest.fixture
def passkey_phone(browser, static_by_finders, settings):
    """A page at phone size, in real mode's two-factor sign-in, whose Chromium has a virtual
    authenticator standing for the phone's screen lock."""
    settings.STAFF_TWO_FACTOR = True
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield page
    context.close()


def test_an_organizer_on_a_phone_signs_in_with_a_passkey(passkey_phone, live_server, organizer):
    """A passkey made on the first sign-in (Chromium's virtual authenticator stands for the
    phone's screen lock), then the recovery codes, then the admin; the next sign-in asks for
    the passkey."""
    page = passkey_phone
    password_step(page, live_server.url)
    page.get_by_role("button", name="Use a passkey").click()
    # Made and given in one: the recovery codes come next.
    page.locator(".laurel-codes").wait_for()
    assert page.locator(".laurel-codes li").count() == 10
    found = [f"recovery codes: {v}" for v in serious_violations(page)]
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(live_server.url + reverse("admin:index"))
    # The next sign-in: the password, then the passkey.
    page.context.clear_cookies()
    password_step(page, live_server.url)
    found += [f"passkey sign-in: {v}" for v in serious_violations(page)]
    page.get_by_role("button", name="Sign in with your passkey").click()
    page.wait_for_url(live_server.url + reverse("admin:index"))
    assert not found, "\n".join(found)


def test_a_quick_tap_on_a_passkey_button_is_never_lost_to_slow_translations(
    passkey_phone, live_server, organizer
):
    """The passkey script's messages come from a separate catalogue: on a slow phone network the
    buttons (making a passkey, signing in with it) must not be offered before they arrive, or a
    tap would do nothing."""
    page = passkey_phone

    def tap_while_translations_are_held(heading: str, name: str) -> None:
        held = []
        page.route("**/passkeys/jsi18n/", lambda route: held.append(route))
        # The held translations keep the page from loading: on once the answer comes.
        password_step(page, live_server.url, wait_until="commit")
        page.get_by_role("heading", name=heading).wait_for()
        page.wait_for_timeout(1500)
        button = page.get_by_role("button", name=name)
        tapped_early = button.is_visible()
        if tapped_early:
            # Offered early, tapped once: that one tap must do what it says.
            button.click()
        for route in held:
            route.continue_()
        page.unroute("**/passkeys/jsi18n/")
        if not tapped_early:
            button.click()

    tap_while_translations_are_held("Set up two-factor sign-in", "Use a passkey")
    page.locator(".laurel-codes").wait_for(timeout=10_000)
    page.context.clear_cookies()
    tap_while_translations_are_held("Two-factor sign-in", "Sign in with your passkey")
    page.wait_for_url(live_server.url + reverse("admin:index"), timeout=10_000)
