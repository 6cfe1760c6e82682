"""What an organizer sees of an import: share links that keep every letter, rows numbered as the
spreadsheet numbers them, and a preview that says what confirming would do, word by word."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from awards.models import Nominee
from awards.slugs import name_slug, unique_slug
from tests.awards.test_import import run
from tests.factories import CategoryFactory, NomineeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Søren Wójcik", "soren-wojcik"),
        ("Rafał Papadopoulos", "rafal-papadopoulos"),
        ("李娜 Zhang", "li-na-zhang"),
        ("김민준", "gim-min-jun"),
        ("Ελένη Παπαδοπούλου", "eleni-papadopoulou"),
        ("Анастасия Кузнецова", "anastasiya-kuznetsova"),
        ("Straße & Co.", "strasse-co"),
        ("!!!", ""),
    ],
)
def test_a_name_in_any_script_gives_a_slug_that_keeps_its_letters(name, slug):
    assert name_slug(name) == slug


def test_a_slug_already_taken_gets_the_next_free_number():
    assert unique_slug("ana", {"ana", "ana-2"}) == "ana-3"
    assert len(unique_slug("a" * 80, {"a" * 80})) == 80


def test_imported_names_get_transliterated_slugs(award, experts):
    _result, problems = run(
        award,
        "name,category\nSøren Wójcik,experts\nRafał Papadopoulos,experts\n李娜 Zhang,experts\n",
    )
    assert problems == []
    assert set(Nominee.objects.values_list("slug", flat=True)) == {
        "soren-wojcik",
        "rafal-papadopoulos",
        "li-na-zhang",
    }


def test_a_new_name_never_takes_another_nominees_slug(award, experts):
    NomineeFactory(category=experts, name="Zoe Adams", slug="zoe-adams")
    _result, problems = run(award, "name,category\nZoë Adams,experts\n")
    assert problems == []
    assert Nominee.objects.get(name="Zoë Adams").slug == "zoe-adams-2"
    assert Nominee.objects.get(name="Zoe Adams").slug == "zoe-adams"


def test_a_nominee_imported_again_by_name_keeps_the_slug_they_were_given(award, experts):
    """Their shared links: a slug made before transliteration (sren-wojcik) is kept."""
    NomineeFactory(category=experts, name="Søren Wójcik", slug="sren-wojcik", headline="Old")
    _result, problems = run(award, "name,category,headline\nSøren Wójcik,experts,New\n")
    assert problems == []
    assert list(Nominee.objects.values_list("slug", "headline")) == [("sren-wojcik", "New")]


def test_a_bad_row_is_numbered_as_the_spreadsheet_shows_it(award, experts):
    rows = "".join(f"Person {n},experts\n" for n in range(4)) + "Bea,nowhere\n"
    _result, problems = run(award, "name,category\n" + rows)
    # Header on row 1, four good rows on 2-5: the bad one is row 6.
    assert [problem.split(" (")[0] for problem in problems] == [
        "Row 6, category: “nowhere” is not a category of this award"
    ]


def preview(client, organizer, award, text: str):
    client.force_login(organizer)
    upload = SimpleUploadedFile("n.csv", text.encode(), content_type="text/csv")
    return client.post(
        reverse("admin:awards_nominee_import"),
        {"award": award.pk, "format": "0", "import_file": upload},
    )


def test_the_preview_sums_up_and_shows_changes_word_by_word_without_inline_styles(
    client, organizer, award, experts
):
    journalists = CategoryFactory(award=award, name="Journalists", slug="journalists")
    NomineeFactory(category=journalists, name="Ana Reyes", slug="ana-reyes", headline="Reporter")
    NomineeFactory(category=experts, name="Bo Kim", slug="bo-kim", headline="Analyst")
    page = preview(
        client,
        organizer,
        award,
        "name,category,headline\nAna Reyes,Experts,Reporter\nBo Kim,experts,Analyst\n"
        "Søren Wójcik,experts,\n李娜 Zhang,experts,\n",
    ).text
    assert "2 new · 1 changed · 1 unchanged" in page
    assert '<del class="diff-del">Journalists</del><ins class="diff-ins">Experts</ins>' in page
    assert "soren-wojcik" in page and "li-na-zhang" in page
    table = page.split('class="import-preview', 1)[1].split("</table>", 1)[0]
    assert "style=" not in table
    assert re.search(r'<td class="laurel-num">2</td>\s*<td class="import-type">Changed', table)


def test_the_preview_lists_problems_by_spreadsheet_row(client, organizer, award, experts):
    page = preview(client, organizer, award, "name,category\nAda,experts\nBea,nowhere\n").text
    assert "Row 3, category: “nowhere” is not a category of this award" in page
    assert "Nothing was imported" in page
