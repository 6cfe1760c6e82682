import csv
import io
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from awards.models import Award, AwardStaff
from awards.stats_links import stats_path
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.models import Vote
from voting.organizers import exports

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def cast(nominee, n=1, *, status=Vote.Status.COUNTED, ip="203.0.113.7", start=T0, **fields):
    Vote.objects.bulk_create(
        Vote(
            award_id=nominee.award_id,
            nominee=nominee,
            category_id=nominee.category_id,
            created_at=start + timedelta(seconds=i),
            voter_key=f"{nominee.pk:04d}{i:028d}",
            ip=ip,
            network="203.0.113.0/24",
            status=status,
            **fields,
        )
        for i in range(n)
    )


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def field(award, experts):
    apps = CategoryFactory(award=award, name="Apps", slug="apps")
    ada = NomineeFactory(category=experts, name="Ada", slug="ada")
    bea = NomineeFactory(category=experts, name="Bea", slug="bea")
    cy = NomineeFactory(category=apps, name="Cy", slug="cy")
    gone = NomineeFactory(category=apps, name="Gone", slug="gone", is_active=False)
    cast(ada, 5)
    cast(bea, 3)
    cast(bea, 2, status=Vote.Status.QUARANTINED, reasons="burst")
    cast(cy, 3)
    cast(cy, 1, status=Vote.Status.VOID)
    cast(gone, 9)
    return ada, bea, cy, gone


def test_the_results_csv_ranks_overall_and_per_category(client, organizer, award, field):
    client.force_login(organizer)
    response = client.get(reverse("export-results", args=[award.pk]))
    assert response["Content-Disposition"].startswith('attachment; filename="sbia-results-')
    assert rows_of(response) == [
        exports.RESULTS_HEADER,
        ["overall", "1", "Ada", "ada", "Experts", "5", "0", "0", ""],
        ["overall", "2", "Bea", "bea", "Experts", "3", "2", "0", ""],
        ["overall", "2", "Cy", "cy", "Apps", "3", "0", "1", ""],
        ["overall", "", "Gone", "gone", "Apps", "9", "0", "0", "hidden"],
        ["Experts", "1", "Ada", "ada", "Experts", "5", "0", "0", ""],
        ["Experts", "2", "Bea", "bea", "Experts", "3", "2", "0", ""],
        ["Apps", "1", "Cy", "cy", "Apps", "3", "0", "1", ""],
        ["Apps", "", "Gone", "gone", "Apps", "9", "0", "0", "hidden"],
    ]


def test_the_results_csv_lists_nominees_without_votes_last_and_unranked(
    client, organizer, award, field
):
    NomineeFactory(category=field[0].category, name="Zed", slug="zed")
    client.force_login(organizer)
    rows = rows_of(client.get(reverse("export-results", args=[award.pk])))
    assert ["overall", "", "Zed", "zed", "Experts", "0", "0", "0", ""] in rows
    experts = [row for row in rows if row[0] == "Experts"]
    assert [(row[1], row[2]) for row in experts] == [("1", "Ada"), ("2", "Bea"), ("", "Zed")]


def test_the_audit_csv_hashes_voters_and_addresses_by_default(client, organizer, award, field):
    client.force_login(organizer)
    rows = rows_of(client.get(reverse("export-votes", args=[award.pk])))
    assert rows[0] == exports.AUDIT_HEADER
    assert len(rows) == 1 + 5 + 5 + 4 + 9
    held = next(r for r in rows if r[5] == "quarantined")
    assert held[1].endswith("-08:00") and held[2:7] == [
        "Bea",
        "Experts",
        "",
        "quarantined",
        "burst",
    ]
    voters, addresses = {r[8] for r in rows[1:]}, {r[9] for r in rows[1:]}
    assert len(addresses) == 1 and "203.0.113" not in addresses.pop()
    # The same voter gets the same code: 20 distinct voters among 23 votes.
    assert len(voters) == 20 and all(len(v) == 16 for v in voters)
    assert not voters & set(Vote.objects.values_list("voter_key", flat=True))


def test_the_audit_csv_truncates_instead_when_the_award_says_so(client, organizer, award, field):
    award.voter_data_in_exports = Award.VoterDataInExports.TRUNCATED
    award.save()
    ada = field[0]
    cast(ada, 1, ip="2001:db8:1234:5678::/64", start=T0 + timedelta(days=1))
    client.force_login(organizer)
    rows = rows_of(client.get(reverse("export-votes", args=[award.pk])))
    assert rows[1][8:] == [f"{ada.pk:04d}0000", "203.0.113.0/24"]
    assert rows[-1][8:] == [f"{ada.pk:04d}0000", "2001:db8:1234::/48"]


def test_the_audit_csv_streams_a_page_of_votes_at_a_time(
    client, organizer, award, nominee, monkeypatch
):
    monkeypatch.setattr(exports, "VOTES_PER_PAGE", 100)
    cast(nominee, 1000)
    client.force_login(organizer)
    response = client.get(reverse("export-votes", args=[award.pk]))
    assert response.streaming
    lines = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        first = list(islice(lines, 150))
    # 150 lines came from two pages: no query read all thousand votes up front.
    assert len(first) == 150 and len(queries) == 2
    with CaptureQueriesContext(connection) as queries:
        rest = list(lines)
    assert len(rest) == 1001 - 150 and len(queries) == 9
    times = [line.decode().split(",")[1] for line in first[1:] + rest]
    assert times == sorted(times)


def test_exports_are_only_for_the_awards_organizers(client, django_user_model, award, field):
    other = AwardFactory(slug="other")
    user = django_user_model.objects.create_user("org2", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Organizers"))
    AwardStaff.objects.create(award=other, user=user, role=AwardStaff.Role.ORGANIZER)
    client.force_login(user)
    assert client.get(reverse("export-votes", args=[award.pk])).status_code == 404
    assert client.get(reverse("export-results", args=[award.pk])).status_code == 404
    assert client.get(reverse("export-results", args=[other.pk])).status_code == 200
    assert client.get(reverse("export-nominee-links", args=[award.pk])).status_code == 404
    assert client.get(reverse("export-nominee-links", args=[other.pk])).status_code == 200
    client.logout()
    assert client.get(reverse("export-votes", args=[award.pk])).status_code == 302
    assert client.get(reverse("export-nominee-links", args=[award.pk])).status_code == 302


def test_the_nominee_links_are_refused_to_signed_in_people_who_are_not_staff(
    client, django_user_model, award
):
    client.force_login(django_user_model.objects.create_user("fan", password="pw"))
    assert client.get(reverse("export-nominee-links", args=[award.pk])).status_code == 403


def test_the_award_page_links_its_exports(client, organizer, award):
    client.force_login(organizer)
    html = client.get(reverse("admin:awards_award_change", args=[award.pk])).content.decode()
    assert f'href="{reverse("export-results", args=[award.pk])}"' in html
    assert f'href="{reverse("export-votes", args=[award.pk])}"' in html
    assert f'href="{reverse("export-nominee-links", args=[award.pk])}"' in html


def test_the_nominee_links_csv_has_a_row_per_listed_nominee_with_absolute_links(
    client, organizer, award, field
):
    ada, bea, cy, _hidden = field
    client.force_login(organizer)
    rows = rows_of(client.get(reverse("export-nominee-links", args=[award.pk])))
    assert rows[0] == ["\ufeffname", "category", "vote link", "toolkit link", "badge embed URL"]
    assert rows[1:] == [
        [
            nominee.name,
            nominee.category.name,
            f"http://testserver/sbia/{nominee.slug}/",
            f"http://testserver{stats_path(nominee)}",
            f"http://testserver/sbia/{nominee.slug}/badge.svg",
        ]
        for nominee in (ada, bea, cy)  # Experts first, then Apps; hidden Gone has no row
    ]
    client.logout()
    # The toolkit link is the nominee's own, and opens without an organizer's login.
    toolkit = client.get(rows[1][3].removeprefix("http://testserver"))
    assert toolkit.status_code == 200
    assert "Your toolkit, Ada" in toolkit.text


def test_the_nominee_links_csv_keeps_accents_and_cjk_for_spreadsheets(
    client, organizer, award, experts
):
    NomineeFactory(category=experts, name="Søren Wójcik", slug="soren-wojcik")
    NomineeFactory(category=experts, name="李娜 Zhang", slug="li-na-zhang")
    client.force_login(organizer)
    response = client.get(reverse("export-nominee-links", args=[award.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    # The byte order mark tells Excel, and a mail merge through it, that the file is UTF-8.
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["Søren Wójcik", "李娜 Zhang"]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("https://evil.example","Ada")', "+1+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"]
)
def test_a_name_a_spreadsheet_would_run_is_exported_as_text(client, organizer, award, name):
    category = CategoryFactory(award=award, name="=Experts", slug="formula")
    cast(NomineeFactory(category=category, name=name, slug="formula-name"), 2)
    client.force_login(organizer)
    for export in ("export-results", "export-votes", "export-nominee-links"):
        rows = rows_of(client.get(reverse(export, args=[award.pk])))
        cells = [cell.lstrip("\ufeff") for row in rows[1:] for cell in row]
        assert "'" + name in cells, export
        assert "'=Experts" in cells, export
        assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))], export
