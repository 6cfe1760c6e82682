import os
import re
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# alongside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("LAUREL_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is required here (install Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed; .ci/run installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def static_by_finders(settings):
    """The live server serves static files from the finders, which know unhashed names only:
    pages name them so in real mode too."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def phone(browser, static_by_finders):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Laurel-Test",
        locale="en-US",
        timezone_id="Europe/Paris",
    )
    yield context
    context.close()


def sign_in(page, username: str, password: str) -> None:
    """The admin's sign-in as a person does it: the password, then, where the account needs
    it (real mode's superusers and organizers), a code from the authenticator app, enrolling
    the app the first time (awards/two_factor.py)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    # Each answer awaited before reading the page: the page before it may still be showing.
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if "/two-factor/" not in page.url:
        return
    device = TOTPDevice.objects.get(user__username=username)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_role("textbox", name="Code").fill(f"{code:06d}")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^(Confirm|Sign in)$")).click()
    continue_link = page.get_by_role("link", name="Continue")
    if continue_link.count():  # the recovery codes, shown once after enrolling
        continue_link.click()
