"""axe-core in Chromium on the jury's pages, for a judge and for the organizer, and on the
published results and integrity report, on a desktop and a phone screen: no serious or critical
violation."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.browser.test_admin_accessibility import SCREENS, scan
from voting.organizers.publication import publication_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(browser, live_server, settings, user, screen):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=SCREENS[screen], locale="en-US")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_jurys_pages_have_no_serious_accessibility_violations(
    browser, live_server, settings, jury, organizer, screen
):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    found = []
    judge = signed_in(browser, live_server, settings, jury.judge, screen)
    page = judge.new_page()
    for path in (
        reverse("admin:index"),
        reverse("jury-award", args=[jury.award.pk]),
        reverse("jury-score", args=[jury.award.pk, jury.li.pk]),
    ):
        found += scan(page, live_server.url + path)
    judge.close()
    desk = signed_in(browser, live_server, settings, organizer, screen)
    page = desk.new_page()
    for path in (
        reverse("award-dashboard", args=[jury.award.pk]),
        reverse("results-review", args=[jury.award.pk]),
        reverse("jury-scores", args=[jury.award.pk]),
        reverse("jury-judges", args=[jury.award.pk]),
        reverse("admin:awards_award_change", args=[jury.award.pk]),
    ):
        found += scan(page, live_server.url + path)
    desk.close()

    # What the public reads once the blended results and the integrity report are out.
    publication_publish(award=jury.award, by=organizer, at=timezone.now(), acknowledged=True)
    public = browser.new_context(viewport=SCREENS[screen], locale="en-US")
    page = public.new_page()
    for path in (jury.award.get_absolute_url(), reverse("integrity-report", args=["sbia"])):
        found += scan(page, live_server.url + path)
    public.close()
    assert not found, "\n".join(found)
