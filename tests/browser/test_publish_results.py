"""An organizer on a phone publishes the results, in real Chromium: the button opens a review
that warns of held votes, and only the confirmation publishes."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from awards.models import Award
from tests.browser.conftest import sign_in
from tests.factories import CategoryFactory, NomineeFactory
from voting.models import AuditEntry, PublishedResult, TallyDelta, Vote
from voting.standings.services import standings_recompute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = settings.VAR_DIR / "screenshots"  # to look at after a run


def cast(nominee, n: int, *, status=Vote.Status.COUNTED) -> None:
    Vote.objects.bulk_create(
        Vote(
            award_id=nominee.award_id,
            nominee=nominee,
            category_id=nominee.category_id,
            created_at=timezone.now() - timedelta(days=2, seconds=i),
            voter_key=f"{nominee.pk:04d}{status[:1]}{i:027d}",
            ip=f"198.51.100.{i + 1}",
            network="198.51.100.0/24",
            status=status,
        )
        for i in range(n)
    )
    if status == Vote.Status.COUNTED:
        TallyDelta.objects.create(award_id=nominee.award_id, nominee=nominee, amount=n)


@pytest.fixture
def closed_award(award, experts):
    Award.objects.filter(pk=award.pk).update(
        voting_opens=timezone.now() - timedelta(days=30),
        voting_closes=timezone.now() - timedelta(days=1),
    )
    apps = CategoryFactory(award=award, name="Apps", slug="apps")
    soren = NomineeFactory(category=experts, name="Søren Wójcik", slug="soren-wojcik")
    li = NomineeFactory(category=experts, name="李娜 Zhang", slug="li-na-zhang")
    ledgerly = NomineeFactory(category=apps, name="Ledgerly", slug="ledgerly")
    NomineeFactory(category=experts, name="Eve Nobody", slug="eve-nobody")
    cast(soren, 5)
    cast(li, 3)
    cast(li, 2, status=Vote.Status.QUARANTINED)
    cast(ledgerly, 4)
    standings_recompute(award_id=award.pk)
    award.refresh_from_db()
    return award


def test_an_organizer_reviews_the_warnings_confirms_and_sees_the_results(
    phone, live_server, closed_award, organizer
):
    page = phone.new_page()
    results = reverse("results-review", args=[closed_award.pk])
    page.goto(f"{live_server.url}{reverse('admin:login')}?next={results}")
    sign_in(page, "organizer", "pw-organizer")

    page.get_by_role("button", name="Review and publish").click()
    warnings = page.locator("#publish-warnings")
    expect(warnings).to_contain_text("2 votes are still held for review")
    expect(warnings.get_by_role("link", name="Open the integrity review")).to_have_attribute(
        "href", reverse("integrity-review", args=[closed_award.pk])
    )
    expect(page.get_by_text("Søren Wójcik · 5 votes · Winner")).to_be_visible()
    expect(page.get_by_text("李娜 Zhang · 3 votes · Finalist")).to_be_visible()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "publish-review-phone.png", full_page=True)
    assert not PublishedResult.objects.exists()

    page.get_by_label("Publish despite these warnings").check()
    page.get_by_role("button", name="Confirm: publish").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Results published")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PUBLISH)
    assert (entry.user, entry.detail["warnings"]) == (organizer, ["held"])

    page.goto(live_server.url + closed_award.get_absolute_url())
    section = page.locator("section.results")
    expect(section).to_contain_text("Søren Wójcik")
    expect(section).to_contain_text("李娜 Zhang")
    page.goto(live_server.url + "/sbia/eve-nobody/")
    expect(page.locator(".rank-line")).to_have_text("No votes")
    page.screenshot(path=SCREENSHOTS / "publish-public-phone.png", full_page=True)
