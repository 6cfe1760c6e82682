"""An organizer imports nominees from a CSV through the admin, in real Chromium."""

import importlib

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from playwright.sync_api import expect

from awards.models import AwardStaff, Nominee
from tests.browser.conftest import sign_in
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.factories import CategoryFactory, NomineeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = settings.VAR_DIR / "screenshots"  # to look at after a run

CSV = (
    "name,category,headline,links,handle\n"
    "Ada Lovelace,Experts,Analyst,https://ada.example,@ada\n"
    "Grace Hopper,apps,Admiral,https://www.linkedin.com/in/grace,grace\n"
)


@pytest.fixture
def desk(browser, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    yield context
    context.close()


def organizers() -> Group:
    """The migration's Organizers group; an earlier transactional test's flush may have
    emptied the table, so it is made again as the migration makes it."""
    from awards.migrations import __name__ as package

    roles = importlib.import_module(f"{package}.0009_organizer_roles")
    group, _ = Group.objects.get_or_create(name="Organizers")
    for app_label, codenames in roles.GROUPS["Organizers"].items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    return group


def test_an_organizer_uploads_previews_and_confirms_a_csv(
    desk, live_server, django_user_model, award, experts, tmp_path
):
    CategoryFactory(award=award, name="Apps", slug="apps")
    user = django_user_model.objects.create_user("olivia", password="pw-olivia", is_staff=True)
    user.groups.add(organizers())
    AwardStaff.objects.create(award=award, user=user, role=AwardStaff.Role.ORGANIZER)
    upload = tmp_path / "nominees.csv"
    upload.write_text(CSV)

    page = desk.new_page()
    page.goto(
        f"{live_server.url}{reverse('admin:login')}?next={reverse('admin:awards_nominee_changelist')}"
    )
    sign_in(page, "olivia", "pw-olivia")
    page.get_by_role("link", name="Import").click()

    page.get_by_label("Award").select_option(label=award.name)
    page.get_by_label("File to import").set_input_files(str(upload))
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()

    expect(page.locator("ul.messagelist")).to_contain_text(f"Into {award.name}: nothing is saved")
    preview = page.locator("table.import-preview")
    expect(preview).to_contain_text("Ada Lovelace")
    expect(preview).to_contain_text("https://www.linkedin.com/in/grace")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.get_by_text("New")).to_have_count(2)
    assert not Nominee.objects.exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-import-preview.png"), full_page=True)

    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Import finished: 2 new")
    expect(page.locator("#result_list")).to_contain_text("Grace Hopper")
    ada = Nominee.objects.get(award=award, slug="ada-lovelace")
    assert (ada.category, ada.website, ada.twitter_handle) == (
        experts,
        "https://ada.example",
        "ada",
    )


def test_on_a_phone_the_preview_sums_up_shows_slugs_and_word_changes_with_no_csp_error(
    browser, static_by_finders, live_server, organizer, award, experts, tmp_path
):
    journalists = CategoryFactory(award=award, name="Journalists", slug="journalists")
    NomineeFactory(category=journalists, name="Rafał Papadopoulos", slug="rafal-papadopoulos")
    upload = tmp_path / "nominees.csv"
    upload.write_text(
        "name,category\nSøren Wójcik,Experts\n李娜 Zhang,Experts\nRafał Papadopoulos,Experts\n",
        encoding="utf-8",
    )
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    phone.add_init_script(RECORD_VIOLATIONS)
    page = phone.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(
        f"{live_server.url}{reverse('admin:login')}?next={reverse('admin:awards_nominee_import')}"
    )
    sign_in(page, "organizer", "pw-organizer")
    page.get_by_label("Award").select_option(label=award.name)
    page.get_by_label("File to import").set_input_files(str(upload))
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()

    expect(page.locator(".laurel-import-summary")).to_contain_text("2 new · 1 changed")
    preview = page.locator("table.import-preview")
    expect(preview).to_contain_text("soren-wojcik")
    expect(preview).to_contain_text("li-na-zhang")
    expect(preview.locator("del.diff-del")).to_have_text("Journalists")
    expect(preview.locator("ins.diff-ins")).to_have_text("Experts")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-import-preview-phone.png"), full_page=True)
    assert page.evaluate("window.__violations") == []
    assert not [line for line in console if "Content Security Policy" in line]
    assert not failed  # no favicon.ico or any other 404
    phone.close()
