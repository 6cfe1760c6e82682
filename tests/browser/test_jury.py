"""The jury in real Chromium at phone size: a judge scores a finalist with their thumb, and an
organizer publishes results that blend the public vote and the jury."""

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from voting.models import AuditEntry, JuryScore, PublishedResult

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = settings.VAR_DIR / "screenshots"  # to look at after a run


def test_a_judge_scores_a_finalist_on_a_phone(phone, live_server, jury):
    page = phone.new_page()
    page.goto(f"{live_server.url}{reverse('admin:login')}?next={reverse('jury-home')}")
    sign_in(page, "judge", "pw")
    expect(page.get_by_text("0 of 4")).to_be_visible()
    page.get_by_role("link", name="李娜 Zhang").click()

    expect(page.get_by_role("heading", name="Score 李娜 Zhang")).to_be_visible()
    expertise = page.get_by_role("group", name="Expertise")
    expertise.get_by_label("9", exact=True).check()
    # Too quick: one criterion left out is named, and nothing is saved.
    page.get_by_role("button", name="Save scores").click()
    expect(page.get_by_role("alert")).to_contain_text("Reach")
    assert not JuryScore.objects.exists()
    page.get_by_role("group", name="Expertise").get_by_label("9", exact=True).check()
    page.get_by_role("group", name="Reach").get_by_label("4", exact=True).check()
    # Each choice is a target a thumb can hit, and nothing overflows the phone's width.
    box = page.get_by_role("group", name="Reach").locator("label").first.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "jury-score-phone.png", full_page=True)
    page.get_by_role("button", name="Save scores").click()

    expect(page.locator("ul.messagelist")).to_contain_text("Your scores for 李娜 Zhang are saved")
    expect(page.get_by_text("1 of 4")).to_be_visible()
    scores = dict(JuryScore.objects.values_list("criterion__name", "score"))
    assert scores == {"Expertise": 9, "Reach": 4}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SCORE, user=jury.judge).exists()

    # A conflict of interest with another finalist excuses the judge from them.
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_text("Conflict of interest", exact=True).click()
    page.get_by_label("What the conflict is").fill("We wrote a book together")
    page.get_by_role("button", name="Declare the conflict").click()
    expect(page.locator("ul.messagelist")).to_contain_text("excused from scoring Ada Lovelace")
    expect(page.get_by_text("Excused (conflict)")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "jury-list-phone.png", full_page=True)


def test_an_organizer_publishes_blended_results_on_a_phone(phone, live_server, jury, organizer):
    jury.score_all()
    page = phone.new_page()
    results = reverse("results-review", args=[jury.award.pk])
    page.goto(f"{live_server.url}{reverse('admin:login')}?next={results}")
    sign_in(page, "organizer", "pw-organizer")
    expect(page.get_by_text("Public 40%, jury 60%.")).to_be_visible()
    row = page.get_by_role("row", name="李娜 Zhang")
    expect(row.get_by_role("checkbox", name="李娜 Zhang is a winner")).to_be_checked()
    expect(
        page.get_by_role("row", name="Søren Wójcik").get_by_role(
            "checkbox", name="Søren Wójcik is a winner"
        )
    ).not_to_be_checked()

    page.get_by_role("button", name="Review and publish").click()
    expect(page.locator("#publish-warnings")).to_contain_text("jury round is still open")
    expect(page.get_by_text("public #2, jury #1, blended #1")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "jury-publish-review-phone.png", full_page=True)
    page.get_by_label("Publish despite these warnings").check()
    page.get_by_role("button", name="Confirm: publish").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Results published")
    assert PublishedResult.objects.get(nominee=jury.li).result == "winner"

    page.goto(live_server.url + jury.award.get_absolute_url())
    section = page.locator("section.results")
    expect(section).to_contain_text("Public vote 40%, jury 60%.")
    expect(section.locator("ol.placings li", has_text="李娜 Zhang")).to_contain_text("Winner")
    expect(section.locator("ol.placings li", has_text="李娜 Zhang")).to_contain_text("jury #1")
    page.screenshot(path=SCREENSHOTS / "jury-public-results-phone.png", full_page=True)
    page.get_by_role("link", name="How the count was kept clean").click()
    expect(page.get_by_role("heading", name="How the count was kept clean")).to_be_visible()
    expect(page.locator("table.integrity-report")).to_contain_text("Experts")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SCREENSHOTS / "integrity-report-phone.png", full_page=True)


def test_an_invited_judge_sets_a_password_from_the_link_and_lands_on_their_finalists(
    phone, live_server, jury, organizer
):
    page = phone.new_page()
    judges = reverse("jury-judges", args=[jury.award.pk])
    page.goto(f"{live_server.url}{reverse('admin:login')}?next={judges}")
    sign_in(page, "organizer", "pw-organizer")
    page.get_by_label("Judge's name").fill("Søren Wójcik")
    page.get_by_label("Email").fill("soren@example.com")
    page.get_by_label("Experts").check()
    page.get_by_role("button", name="Invite").click()
    link = page.get_by_label("Invitation link").input_value()
    assert link.startswith(live_server.url + "/admin/jury/welcome/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "jury-invite-phone.png", full_page=True)
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide

    judge = phone.browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    welcome = judge.new_page()
    welcome.goto(link)
    expect(welcome.get_by_text("Welcome, Søren Wójcik")).to_be_visible()
    welcome.get_by_label("Password:", exact=True).fill("a long pass phrase for the jury")
    welcome.get_by_label("Password again:").fill("a long pass phrase for the jury")
    welcome.get_by_role("button", name="Set my password").click()
    sign_in(welcome, "soren", "a long pass phrase for the jury")
    expect(welcome.get_by_text("0 of 3")).to_be_visible()  # Experts' finalists only
    expect(welcome.get_by_role("link", name="Chatty")).to_have_count(0)
    judge.close()
