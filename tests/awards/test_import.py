import io
import os
import time
import zipfile
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from awards.imports import PhotoArchive, dataset_read, import_problems, nominees_import
from awards.models import Award, Nominee
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory

pytestmark = pytest.mark.django_db

GOOD = (
    "name,category,headline,bio,links,handle,photo,slug\n"
    "Ada Lovelace,experts,Analyst,First programmer,"
    '"https://ada.example, https://www.linkedin.com/in/ada",@ada,,\n'
    "Grace Hopper,Apps,Admiral,,https://facebook.com/grace x.com/gracehopper,,,admiral-grace\n"
)


@pytest.fixture
def apps(award):
    return CategoryFactory(award=award, name="Apps", slug="apps")


def run(award, text: str | bytes, *, dry_run=False, photos=None, name="nominees.csv"):
    data = text.encode() if isinstance(text, str) else text
    dataset = dataset_read(data=data, file_name=name)
    result = nominees_import(award=award, dataset=dataset, photos=photos, dry_run=dry_run)
    return result, import_problems(result)


def png_bytes(color="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, "PNG")
    return out.getvalue()


def picture_of(photo, color="red") -> bool:
    """Whether a stored photo is the JPEG Laurel makes of a picture of one colour."""
    data = photo.read()
    pixel = Image.open(io.BytesIO(data)).convert("RGB").getpixel((4, 4))
    wanted = Image.new("RGB", (1, 1), color).getpixel((0, 0))
    close = all(abs(a - b) < 12 for a, b in zip(pixel, wanted, strict=True))
    return photo.name.endswith(".jpg") and data[:2] == b"\xff\xd8" and close


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_good_file_creates_every_nominee_with_links_sorted_by_site(award, experts, apps):
    result, problems = run(award, GOOD)
    assert problems == []
    ada = Nominee.objects.get(award=award, slug="ada-lovelace")
    assert (ada.category, ada.headline, ada.bio) == (experts, "Analyst", "First programmer")
    assert (ada.website, ada.linkedin_url, ada.twitter_handle) == (
        "https://ada.example",
        "https://www.linkedin.com/in/ada",
        "ada",
    )
    grace = Nominee.objects.get(award=award, slug="admiral-grace")
    assert (grace.category, grace.facebook_url, grace.twitter_handle) == (
        apps,
        "https://facebook.com/grace",
        "gracehopper",
    )
    assert result.totals["new"] == 2


def test_reimporting_the_same_file_updates_and_never_duplicates(award, experts, apps):
    run(award, GOOD)
    ids = set(Nominee.objects.values_list("pk", flat=True))
    result, problems = run(award, GOOD)
    assert problems == []
    assert (result.totals["new"], result.totals["skip"]) == (0, 2)
    changed, problems = run(award, GOOD.replace("Analyst", "Mathematician"))
    assert problems == []
    assert (changed.totals["new"], changed.totals["update"]) == (0, 1)
    assert set(Nominee.objects.values_list("pk", flat=True)) == ids
    assert Nominee.objects.get(slug="ada-lovelace").headline == "Mathematician"


def test_a_dry_run_reports_the_changes_and_saves_nothing(award, experts, apps):
    result, problems = run(award, GOOD, dry_run=True)
    assert (problems, result.totals["new"]) == ([], 2)
    assert not Nominee.objects.exists()
    assert "Analyst" in result.rows[0].diff[2]  # the per-row change shown in the preview


@pytest.mark.parametrize(
    "row, expected",
    [
        ("Bea,Unknown,,,,,,", "Row 3, category: “Unknown” is not a category of this award"),
        (",experts,,,,,,", "Row 3, name: Missing: every nominee needs a name."),
        ("Bea,experts,,,,,,ada-lovelace", "Row 3, slug: “ada-lovelace” is also the slug of row 2"),
        ("Ada Lovelace,experts,,,,,,", "Row 3, slug: “ada-lovelace” is also the slug of row 2"),
        ("Bea,experts,,,htp//nope,,,", "Row 3, links: “htp//nope” is not a web link."),
        ("Bea,experts,,,,bad handle!,,", "Row 3, handle: Enter the handle without the @"),
        ("Bea,experts,,,,,bea.jpg,", "Row 3, photo: “bea.jpg” needs the zip of photos"),
        ("Bea,experts,,,,,,categories", "Row 3, slug: “categories” is reserved."),
        ("Bea,experts,,,,,,,surplus", "Row 3, row: The row has more cells (9)"),
    ],
)
def test_a_bad_row_is_reported_by_number_and_reason_and_nothing_is_imported(
    award, experts, apps, row, expected
):
    header, first = GOOD.splitlines()[:2]
    _, problems = run(award, f"{header}\n{first}\n{row}\n")
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert not Nominee.objects.exists()


def test_text_that_is_not_utf8_is_reported_on_its_row(award, experts):
    data = b"name,category\nAda,experts\n" + "Zoë,experts\n".encode("latin-1")
    _, problems = run(award, data)
    assert problems == [
        "Row 3, row: The row has text that is not UTF-8: save the file as “CSV UTF-8” and retry."
    ]
    assert not Nominee.objects.exists()


def test_every_bad_row_is_reported_at_once(award, experts):
    _, problems = run(award, "name,category\n,experts\nBea,nope\nCy,experts\n")
    assert [p.split(",")[0] for p in problems] == ["Row 2", "Row 3"]


def test_a_file_without_the_needed_columns_is_refused_whole(award, experts):
    _, problems = run(award, "nom,cat\nAda,experts\n")
    assert problems == ["The file has no “name” or “category” column; its header row is: nom, cat."]


def test_a_bad_row_rolls_back_rows_that_would_update(award, experts):
    NomineeFactory(award=award, category=experts, name="Ada", slug="ada", headline="Old")
    _, problems = run(award, "name,category,headline\nAda,experts,New\n,experts,\n")
    assert problems
    assert Nominee.objects.get(slug="ada").headline == "Old"


def test_photos_come_from_the_zip_and_reimporting_them_changes_nothing(award, experts):
    photos = PhotoArchive(zip_of({"shots/ada.png": png_bytes(), "bea.png": b"not an image"}))
    _, problems = run(award, "name,category,photo\nAda,experts,ada.png\n", photos=photos)
    assert problems == []
    ada = Nominee.objects.get(slug="ada")
    assert ada.photo.name.startswith("nominees/") and picture_of(ada.photo)
    again, _ = run(award, "name,category,photo\nAda,experts,ada.png\n", photos=photos)
    assert again.totals["skip"] == 1
    _, problems = run(
        award, "name,category,photo\nBea,experts,bea.png\nCy,experts,cy.png\n", photos=photos
    )
    assert problems == [
        "Row 2, photo: “bea.png” is not an image Laurel can read.",
        "Row 3, photo: “cy.png” is not in the zip of photos (2 files).",
    ]


def test_a_spreadsheet_imports_like_a_csv(award, experts):
    import tablib

    sheet = tablib.Dataset(headers=["Name", "Category", "Handle"])
    sheet.append(["Ada Lovelace", "Experts", "@ada"])
    _, problems = run(award, sheet.export("xlsx"), name="nominees.xlsx")
    assert problems == []
    assert Nominee.objects.get(slug="ada-lovelace").twitter_handle == "ada"


def test_984_rows_import_in_one_go(award):
    categories = [CategoryFactory(award=award, slug=f"c{i}") for i in range(6)]
    lines = ["name,category,headline,links,handle"]
    lines += [f"Nominee {n},c{n % 6},Expert {n},https://n{n}.example,n{n}" for n in range(984)]
    _, problems = run(award, "\n".join(lines))
    assert problems == []
    assert Nominee.objects.filter(award=award).count() == 984
    assert Nominee.objects.filter(category=categories[5]).count() == 164


def test_the_command_imports_and_its_dry_run_saves_nothing(award, experts, apps, tmp_path):
    path = tmp_path / "nominees.csv"
    path.write_text(GOOD)
    out = io.StringIO()
    call_command("import_nominees", str(path), "--award", "sbia", "--dry-run", stdout=out)
    assert (
        out.getvalue().strip() == "Would import 2 row(s) into sbia: 2 new, 0 updated, 0 unchanged."
    )
    assert not Nominee.objects.exists()
    call_command("import_nominees", str(path), "--award", "sbia", stdout=out)
    assert Nominee.objects.count() == 2


def test_the_command_lists_problems_and_fails(award, experts, tmp_path):
    path = tmp_path / "nominees.csv"
    path.write_text("name,category\nAda,nope\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 problem"):
        call_command("import_nominees", str(path), "--award", "sbia", stderr=err)
    assert "Row 2, category: “nope” is not a category" in err.getvalue()
    with pytest.raises(CommandError, match="No award has the slug"):
        call_command("import_nominees", str(path), "--award", "nope")


def test_rows_go_to_the_named_award_only(award, experts):
    other = AwardFactory(slug="other")
    CategoryFactory(award=other, slug="experts")
    NomineeFactory(award=other, category=other.categories.get(), slug="ada", headline="Theirs")
    _, problems = run(award, "name,category,headline\nAda,experts,Ours\n")
    assert problems == []
    assert Nominee.objects.get(award=other, slug="ada").headline == "Theirs"
    assert Nominee.objects.get(award=award, slug="ada").headline == "Ours"


def upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_the_admin_previews_each_rows_changes_then_imports_on_confirm(
    client, organizer, award, experts, apps
):
    client.force_login(organizer)
    photos = zip_of({"ada.png": png_bytes()})
    preview = client.post(
        reverse("admin:awards_nominee_import"),
        {
            "award": award.pk,
            "format": "0",
            "import_file": upload(
                "nominees.csv", GOOD.replace(",@ada,,", ",@ada,ada.png,").encode()
            ),
            "photos": upload("photos.zip", photos),
        },
    )
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Analyst" in page and "admiral-grace" in page and "New" in page
    assert not Nominee.objects.exists()
    confirm = preview.context["confirm_form"]
    done = client.post(
        reverse("admin:awards_nominee_process_import"),
        {name: confirm.initial[name] for name in confirm.initial},
        follow=True,
    )
    assert "Import finished: 2 new" in done.content.decode()
    assert picture_of(Nominee.objects.get(slug="ada-lovelace").photo)


def admin_preview(client, award, *, photos: bool = True):
    rows = GOOD.replace(",@ada,,", ",@ada,ada.png,") if photos else GOOD
    fields = {"award": award.pk, "format": "0", "import_file": upload("n.csv", rows.encode())}
    if photos:
        fields["photos"] = upload("photos.zip", zip_of({"ada.png": png_bytes()}))
    preview = client.post(reverse("admin:awards_nominee_import"), fields)
    assert preview.status_code == 200
    confirm = preview.context["confirm_form"]
    return {name: confirm.initial[name] for name in confirm.initial}


def test_the_confirm_step_works_on_another_web_container_than_the_preview(
    client, organizer, award, experts, apps, settings, tmp_path
):
    """With --scale web=N, nginx may send the confirm to another container, whose temporary
    folder is its own: the import's files wait in IMPORT_DIR, which they all share."""
    settings.IMPORT_DIR = tmp_path / "shared"
    client.force_login(organizer)
    with mock.patch("tempfile.tempdir", str(tmp_path / "first-container")):
        (tmp_path / "first-container").mkdir()
        confirm = admin_preview(client, award)
    assert not any((tmp_path / "first-container").iterdir())
    with mock.patch("tempfile.tempdir", str(tmp_path / "second-container")):
        (tmp_path / "second-container").mkdir()
        done = client.post(reverse("admin:awards_nominee_process_import"), confirm, follow=True)
    assert "Import finished: 2 new" in done.content.decode()
    assert picture_of(Nominee.objects.get(slug="ada-lovelace").photo)
    assert not any(settings.IMPORT_DIR.iterdir())  # both files removed once imported


def test_an_import_confirmed_twice_says_its_files_are_gone_and_imports_once(
    client, organizer, award, experts, apps, settings, tmp_path
):
    settings.IMPORT_DIR = tmp_path
    client.force_login(organizer)
    confirm = admin_preview(client, award)
    client.post(reverse("admin:awards_nominee_process_import"), confirm)
    again = client.post(reverse("admin:awards_nominee_process_import"), confirm, follow=True)
    assert again.status_code == 200
    assert "files are gone" in again.content.decode()
    assert Nominee.objects.count() == 2


def test_a_confirm_form_naming_a_path_reads_only_from_the_import_folder(
    client, organizer, award, experts, apps, settings, tmp_path
):
    settings.IMPORT_DIR = tmp_path / "imports"
    (tmp_path / "secret.csv").write_text(GOOD)
    client.force_login(organizer)
    confirm = admin_preview(client, award, photos=False)
    confirm["import_file_name"] = "../secret.csv"
    done = client.post(reverse("admin:awards_nominee_process_import"), confirm, follow=True)
    assert done.status_code < 500
    assert not Nominee.objects.exists()


def test_the_files_of_an_import_left_unconfirmed_go_after_a_day(settings, tmp_path):
    from awards.admin_import import ABANDONED_SECONDS, imports_abandoned_remove

    settings.IMPORT_DIR = tmp_path
    old, recent = tmp_path / "old", tmp_path / "recent"
    old.write_bytes(b"x")
    recent.write_bytes(b"x")
    day_ago = time.time() - ABANDONED_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    imports_abandoned_remove()
    assert not old.exists() and recent.exists()


def test_the_admin_lists_bad_rows_and_offers_no_confirm(client, organizer, award, experts):
    client.force_login(organizer)
    response = client.post(
        reverse("admin:awards_nominee_import"),
        {
            "award": award.pk,
            "format": "0",
            "import_file": upload("nominees.csv", b"name,category\nAda,nope\n"),
        },
    )
    assert response.status_code == 200
    assert "is not a category of this award" in response.content.decode()
    assert "confirm_form" not in response.context
    empty = client.post(
        reverse("admin:awards_nominee_import"),
        {"award": award.pk, "format": "0", "import_file": upload("n.csv", b"\n\n")},
    )
    assert "The file is empty." in empty.content.decode()
    not_zip = client.post(
        reverse("admin:awards_nominee_import"),
        {
            "award": award.pk,
            "format": "0",
            "import_file": upload("n.csv", b"name,category\nAda,experts\n"),
            "photos": upload("p.zip", b"nope"),
        },
    )
    assert "The photos file is not a zip archive." in not_zip.content.decode()
    assert not Nominee.objects.exists()


def test_an_organizer_imports_only_into_their_own_awards(client, django_user_model, award, experts):
    from django.contrib.auth.models import Group

    from awards.models import AwardStaff

    theirs = AwardFactory(slug="theirs")
    user = django_user_model.objects.create_user("org2", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Organizers"))
    AwardStaff.objects.create(award=theirs, user=user, role=AwardStaff.Role.ORGANIZER)
    client.force_login(user)
    response = client.post(
        reverse("admin:awards_nominee_import"),
        {
            "award": award.pk,
            "format": "0",
            "import_file": upload("nominees.csv", b"name,category\nAda,experts\n"),
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Nominee.objects.exists()


@pytest.fixture
def photo_server():
    """A web server on this machine with one photo, as an organizer's site would have."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Photos(BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path == "/ada.png"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(png_bytes("blue") if found else b"no")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_photo_link_is_fetched_after_the_import_is_saved(
    award, experts, photo_server, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from awards import tasks
    from awards.photos import nominee_photo_fetch

    settings.PHOTO_FETCH_PRIVATE_ADDRESSES = True  # the test's site is on this machine

    queued = []
    monkeypatch.setattr(tasks.nominee_photo_fetch_task, "delay", lambda **kw: queued.append(kw))
    csv_text = f"name,category,photo\nAda,experts,{photo_server}/ada.png\nBea,experts,{photo_server}/gone.png\n"
    dry, problems = run(award, csv_text, dry_run=True)
    assert problems == [] and photo_server in dry.rows[0].diff[6]
    with django_capture_on_commit_callbacks(execute=True):
        run(award, csv_text)
    ada, bea = Nominee.objects.get(slug="ada"), Nominee.objects.get(slug="bea")
    assert queued == [
        {"nominee_id": ada.pk, "url": f"{photo_server}/ada.png"},
        {"nominee_id": bea.pk, "url": f"{photo_server}/gone.png"},
    ]
    assert nominee_photo_fetch(**queued[0]) is True
    assert nominee_photo_fetch(**queued[1]) is False  # a 404 leaves the photo as it was
    ada.refresh_from_db()
    assert picture_of(ada.photo, "blue") and not Nominee.objects.get(pk=bea.pk).photo
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again, _ = run(award, csv_text.splitlines()[0] + "\n" + csv_text.splitlines()[1] + "\n")
    assert (again.totals["skip"], queued) == (1, [])  # the same link is not fetched twice
    _, problems = run(award, "name,category,photo\nCy,experts,https://exa mple.com/x.png\n")
    assert problems == ["Row 2, photo: “https://exa mple.com/x.png” is not a web link."]


def test_the_nominee_slug_help_shows_the_share_links_shape(client, organizer, award):
    client.force_login(organizer)
    html = client.get(reverse("admin:awards_nominee_add")).content.decode()
    assert "Part of the share link, /award-slug/nominee-slug/." in html
    assert "///" not in html


def test_a_photo_link_into_laurels_own_network_is_not_followed(nominee, photo_server, caplog):
    from awards.photos import nominee_photo_fetch

    assert nominee_photo_fetch(nominee_id=nominee.pk, url=f"{photo_server}/ada.png") is False
    nominee.refresh_from_db()
    assert not nominee.photo
    assert "not on the public internet" in caplog.text


@pytest.mark.parametrize(
    ("resolved", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("10.0.0.7", False),  # the compose network
        ("169.254.169.254", False),  # a cloud's metadata service
        ("127.0.0.1", False),
        ("::1", False),
        ("fd00::5", False),
        ("100.64.1.1", False),  # carrier-grade NAT
    ],
)
def test_only_public_addresses_are_fetched_from(monkeypatch, resolved, allowed):
    import socket

    from awards import fetch

    family = socket.AF_INET6 if ":" in resolved else socket.AF_INET
    answer = [(family, socket.SOCK_STREAM, 6, "", (resolved, 443))]
    monkeypatch.setattr(fetch.socket, "getaddrinfo", lambda *args, **kwargs: answer)
    if allowed:
        assert fetch.checked_address("photos.example", 443) == resolved
    else:
        with pytest.raises(fetch.PrivateAddress):
            fetch.checked_address("photos.example", 443)


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    import socket

    from awards import fetch

    answer = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80)),
    ]
    monkeypatch.setattr(fetch.socket, "getaddrinfo", lambda *args, **kwargs: answer)
    with pytest.raises(fetch.PrivateAddress):
        fetch.checked_address("photos.example", 80)


def test_a_redirect_into_laurels_network_is_not_followed(nominee, settings, caplog):
    """A site on this machine stands in for a public one whose link redirects inward."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from awards import fetch
    from awards.photos import nominee_photo_fetch

    reached = []

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            reached.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://inside.example/secret.png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    checked = []
    real = fetch.checked_address

    def checked_address(host, port):
        checked.append(host)
        if host == "inside.example":
            raise fetch.PrivateAddress("inside.example is not on the public internet (10.0.0.7)")
        settings.PHOTO_FETCH_PRIVATE_ADDRESSES = True  # the stand-in public site
        try:
            return real(host, port)
        finally:
            settings.PHOTO_FETCH_PRIVATE_ADDRESSES = False

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(fetch, "checked_address", checked_address)
            url = f"http://127.0.0.1:{server.server_address[1]}/ada.png"
            assert nominee_photo_fetch(nominee_id=nominee.pk, url=url) is False
    finally:
        server.shutdown()
    assert reached == ["/ada.png"] and checked == ["127.0.0.1", "inside.example"]
    assert "not on the public internet" in caplog.text


def test_a_large_zip_of_photos_is_copied_to_disk_not_held_in_memory(award, experts, settings):
    """A thousand photos are hundreds of megabytes: a web worker reads them a photo at a time."""
    import tracemalloc

    from django.core.files.uploadedfile import TemporaryUploadedFile

    from awards.admin_import import NomineeImportForm, SharedFolderStorage
    from awards.imports import IMPORT_FORMATS, NomineeResource

    filler = os.urandom(24 * 2**20)  # stored uncompressed: as large in the zip as on disk
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("ada.png", png_bytes())
        archive.writestr("others.bin", filler)
    zipped, filler = out.getvalue(), None
    photos = TemporaryUploadedFile("photos.zip", "application/zip", len(zipped), None)
    photos.write(zipped)
    photos.seek(0)
    zipped = None
    form = NomineeImportForm(
        IMPORT_FORMATS,
        [NomineeResource],
        data={"award": award.pk, "format": "0"},
        files={"import_file": upload("n.csv", GOOD.encode()), "photos": photos},
        awards=Award.objects.all(),
    )
    tracemalloc.start()
    try:
        assert form.is_valid(), form.errors
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    kept = SharedFolderStorage(name=form.cleaned_data["photos"]).get_full_path()
    try:
        assert os.path.getsize(kept) > 24 * 2**20
        assert PhotoArchive(kept).read("ada.png") == png_bytes()
    finally:
        os.remove(kept)
