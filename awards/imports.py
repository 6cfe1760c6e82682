"""Nominees from a spreadsheet: one CSV or XLSX row per nominee, checked whole before any is saved.

The admin's import page and ``manage.py import_nominees`` both go through ``nominees_import``.
Rows are matched to an award's nominees by slug (made from the name when the file has none), so
importing the same file again updates those nominees instead of adding copies.
"""

import csv
import difflib
import io
import logging
import os
import re
import zipfile
from collections import Counter
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import tablib
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import Result

from awards.models import Award, Category, Nominee
from awards.photos import PHOTO_MAX_BYTES, photo_check, photo_name, photo_reencoded
from awards.slugs import name_slug, unique_slug
from awards.tasks import nominee_photo_fetch_later

COLUMNS = ["name", "category", "headline", "bio", "links", "handle", "photo", "slug"]
# Parse-time problems travel with their row in this column, so they are reported with the rest.
PROBLEM_COLUMN = "_problem"
log = logging.getLogger(__name__)
# Column names for the errors the model reports under its field names.
COLUMN_OF_FIELD = {"twitter_handle": "handle", "website": "links", "linkedin_url": "links"}
COLUMN_OF_FIELD |= {"facebook_url": "links", "__all__": "row"}


class ImportFileError(Exception):
    """The file as a whole cannot be read: say why, import nothing."""


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _dataset(headers: list, rows: list[list], problems: dict[int, str]) -> tablib.Dataset:
    headers = [_cell(h).lower() for h in headers]
    dataset = tablib.Dataset(headers=[*headers, PROBLEM_COLUMN])
    for number, row in enumerate(rows, 1):
        cells = [_cell(value) for value in row][: len(headers)]
        cells += [""] * (len(headers) - len(cells))
        dataset.append([*cells, problems.get(number, "")])
    return dataset


class NomineeCSV(base_formats.CSV):
    """CSV read as bytes, so text that is not UTF-8 is reported on its row, not as one error."""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream) -> tablib.Dataset:
        text = in_stream.decode("utf-8-sig", errors="replace")
        records = [
            r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)
        ]
        if not records:
            raise ImportFileError("The file is empty.")
        headers, rows = records[0], records[1:]
        problems = {}
        for number, row in enumerate(rows, 1):
            found = []
            if any("\ufffd" in cell for cell in row):
                found.append("text that is not UTF-8: save the file as “CSV UTF-8” and retry")
            if any("\x00" in cell for cell in row):
                found.append("a NUL character, which text cannot hold")
            if any(cell.strip() for cell in row[len(headers) :]):
                found.append(f"more cells ({len(row)}) than the header has columns")
            problems[number] = "; ".join(found)
        return _dataset(headers, rows, problems)


class NomineeXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream) -> tablib.Dataset:
        sheet = super().create_dataset(in_stream)
        rows = [list(r) for r in sheet if any(_cell(c) for c in r)]
        return _dataset(list(sheet.headers or []), rows, {})


IMPORT_FORMATS = [NomineeCSV, NomineeXLSX]


def dataset_read(*, data: bytes, file_name: str) -> tablib.Dataset:
    """The rows of an uploaded CSV or XLSX file (chosen by its name)."""
    file_format = NomineeXLSX() if file_name.lower().endswith(".xlsx") else NomineeCSV()
    try:
        return file_format.create_dataset(data)
    except ImportFileError:
        raise
    except Exception as error:
        raise ImportFileError(
            f"{file_name} cannot be read as {file_format.get_title().upper()}: {error}."
        ) from error


class PhotoArchive:
    """The photos uploaded with a file, as a zip; rows name them by file name.

    Given a path, the zip is read from disk as rows need its photos: a zip of a thousand photos
    is hundreds of megabytes, which a web worker should not hold.
    """

    def __init__(self, source: bytes | str | os.PathLike):
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        except zipfile.BadZipFile as error:
            raise ImportFileError("The photos file is not a zip archive.") from error
        self._members = {
            PurePosixPath(info.filename).name: info
            for info in self._zip.infolist()
            if not info.is_dir() and not PurePosixPath(info.filename).name.startswith(".")
        }

    def __len__(self) -> int:
        return len(self._members)

    def read(self, name: str) -> bytes:
        """The named photo's bytes, checked to be an image; ValueError says what is wrong."""
        info = self._members.get(PurePosixPath(name).name)
        if info is None:
            raise ValueError(f"“{name}” is not in the zip of photos ({len(self)} files).")
        if info.file_size > PHOTO_MAX_BYTES:
            raise ValueError(f"“{name}” is larger than {PHOTO_MAX_BYTES // 2**20} MB.")
        data = self._zip.read(info)
        try:
            photo_check(data)
        except ValueError as error:
            raise ValueError(f"“{name}” is {error}.") from error
        return data


class CategoryWidget(widgets.Widget):
    """A category of the award, by its slug or its name (either case)."""

    def __init__(self, award: Award | None):
        super().__init__()
        self.by_key: dict[str, Category] = {}
        categories = Category.objects.filter(award=award) if award else []
        for category in categories:
            self.by_key.setdefault(category.name.lower(), category)
            self.by_key[category.slug.lower()] = category

    def clean(self, value, row=None, **kwargs) -> Category:
        if not value:
            raise ValueError("Missing: give the category's name or slug.")
        category = self.by_key.get(value.lower())
        if category is None:
            names = sorted({c.name for c in self.by_key.values()})
            raise ValueError(
                f"“{value}” is not a category of this award (its categories: {', '.join(names)})."
            )
        return category

    def render(self, value, obj=None, **kwargs) -> str:
        return value.name if value else ""


class HandleWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs) -> str:
        return _cell(value).removeprefix("@")


def _links(value: str) -> dict[str, str]:
    """A links cell split into the nominee's link fields by the site each link is on."""
    links: dict[str, str] = {}
    for text in value.replace(",", " ").split():
        url = text if "://" in text else f"https://{text}"
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValueError(f"“{text}” is not a web link.") from None
        host = (urlsplit(url).hostname or "").removeprefix("www.").removeprefix("m.")
        if host in {"twitter.com", "x.com"}:
            handle = urlsplit(url).path.strip("/").split("/")[0]
            if not handle:
                raise ValueError(f"“{text}” is not a link to an account.")
            field = "twitter_handle"
            url = handle
        elif host == "linkedin.com" or host.endswith(".linkedin.com"):
            field = "linkedin_url"
        elif host in {"facebook.com", "fb.com"}:
            field = "facebook_url"
        else:
            field = "website"
        if field in links and links[field] != url:
            raise ValueError(f"Two links for the same site: “{links[field]}” and “{text}”.")
        links[field] = url
    return links


class ComputedField(fields.Field):
    """A column read from several attributes: the import sets them (see NomineeResource), the
    preview's diff and the unchanged-row check read them through this."""

    def __init__(self, *, value_of, **kwargs):
        super().__init__(**kwargs)
        self.value_of = value_of

    def get_value(self, instance) -> str:
        return self.value_of(instance)


def _links_of(nominee: Nominee) -> str:
    return " ".join(u for u in (nominee.website, nominee.linkedin_url, nominee.facebook_url) if u)


def _photo_of(nominee: Nominee) -> str:
    if url := getattr(nominee, "photo_url", None):
        return url
    return PurePosixPath(nominee.photo.name).name if nominee.photo else ""


WORDS = re.compile(r"(\s+)")


def word_diff(before: str, after: str) -> SafeString:
    """`after` with the words taken out of `before` struck and the words put in marked, each by
    class (the admin's CSP allows no inline style): "Journalists" → "Experts" shows both."""
    old, new = WORDS.split(before), WORDS.split(after)
    parts = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            parts.append(format_html("{}", "".join(new[j1:j2])))
            continue
        if i2 > i1 and "".join(old[i1:i2]).strip():
            parts.append(format_html('<del class="diff-del">{}</del>', "".join(old[i1:i2])))
        if j2 > j1 and "".join(new[j1:j2]).strip():
            parts.append(format_html('<ins class="diff-ins">{}</ins>', "".join(new[j1:j2])))
    return mark_safe("".join(parts))  # every part was escaped by format_html


class WordDiff(resources.Diff):
    """The import preview's changes word by word, styled by class, instead of character by
    character with inline styles."""

    def as_html(self) -> list[SafeString]:
        cells = []
        for before, after in zip(self.left, self.right, strict=False):
            before, after = str(before or ""), str(after or "")
            if self.new or before == after:
                cells.append(format_html("{}", after))
            else:
                cells.append(word_diff(before, after))
        return cells


class NomineeResource(resources.ModelResource):
    name = fields.Field(attribute="name", column_name="name", widget=widgets.CharWidget())
    category = fields.Field(attribute="category", column_name="category")
    headline = fields.Field(attribute="headline", column_name="headline")
    bio = fields.Field(attribute="bio", column_name="bio")
    links = ComputedField(column_name="links", value_of=_links_of)
    handle = fields.Field(attribute="twitter_handle", column_name="handle", widget=HandleWidget())
    photo = ComputedField(column_name="photo", value_of=_photo_of)
    slug = fields.Field(attribute="slug", column_name="slug")

    class Meta:
        model = Nominee
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["slug"]
        # One query finds every nominee the file names, instead of one per row.
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_diff_class(self):
        return WordDiff

    def __init__(self, award: Award | None = None, photos: PhotoArchive | None = None, **kwargs):
        super().__init__(**kwargs)
        self.award = award
        self.photos = photos
        self.fields["category"].widget = CategoryWidget(award)
        self.duplicate_of: dict[int, int] = {}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # The award is the import's own and the category one of its (CategoryWidget): checking
        # that they exist, and the slug's uniqueness (duplicates in the file are caught in
        # before_import, the rest by the constraint), would be three queries a row.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "award", "category"], validate_unique=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        if getattr(instance, "photo_url", None):
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def after_save_instance(self, instance: Nominee, row, **kwargs) -> None:
        url = getattr(instance, "photo_url", None)
        if url and not kwargs.get("dry_run"):
            nominee_photo_fetch_later(nominee_id=instance.pk, url=url)

    def get_queryset(self):
        return Nominee.objects.filter(award=self.award).select_related("category")

    def init_instance(self, row=None) -> Nominee:
        return Nominee(award=self.award)

    def before_import(self, dataset: tablib.Dataset, **kwargs) -> None:
        missing = [c for c in ("name", "category") if c not in (dataset.headers or [])]
        if missing:
            headers = dataset.headers
            dataset.wipe()  # no row can be read without them: report the file, not every row
            dataset.headers = headers
            raise ImportFileError(
                f"The file has no {' or '.join(f'“{c}”' for c in missing)} column; its header "
                f"row is: {', '.join(h for h in dataset.headers or [] if h != PROBLEM_COLUMN)}."
            )
        rows = [dict(zip(dataset.headers, r, strict=True)) for r in dataset]
        self._slugs_from_names(rows)
        first_row = {}
        for number, row in enumerate(rows, 1):
            if row["slug"]:
                first = first_row.setdefault(row["slug"], number)
                if first != number:
                    self.duplicate_of[number] = first
        headers = list(dict.fromkeys([*dataset.headers, "slug"]))
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append([row.get(h, "") for h in headers])

    def _slugs_from_names(self, rows: list[dict]) -> None:
        """A slug for each row without one: the nominee's of that name when the award has one
        (so a file imported again updates them, whatever slug they were given), else one made
        from the name that no other nominee of the award, nor another name in the file, has."""
        existing = Nominee.objects.filter(award=self.award).values_list("name", "slug")
        slug_of_name = {name.casefold(): slug for name, slug in existing}
        # A slug the file gives a row is that row's: one made for another row that equals it is
        # reported as a duplicate (below), not quietly moved aside.
        taken = set(slug_of_name.values())
        made: dict[str, str] = {}  # name → slug, so that a name twice is reported as such
        for row in rows:
            if row.get("slug"):
                continue
            name = row.get("name", "").casefold()
            if name in slug_of_name or name in made:
                row["slug"] = slug_of_name.get(name) or made[name]
                continue
            slug = name_slug(row.get("name", ""))
            row["slug"] = made[name] = unique_slug(slug, taken) if slug else ""
            taken.add(row["slug"])

    def import_instance(self, instance: Nominee, row, **kwargs) -> None:
        errors: dict[str, list] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        number = kwargs.get("row_number")
        if row.get(PROBLEM_COLUMN):
            errors["__all__"] = [ValidationError(f"The row has {row[PROBLEM_COLUMN]}.")]
        if not row.get("name"):
            errors["name"] = [ValidationError("Missing: every nominee needs a name.")]
            errors.setdefault("slug", [])  # its slug would come from the name: no second error
        elif not row.get("slug"):
            errors["slug"] = [
                ValidationError("Give a slug: the name has no letters a link can use.")
            ]
        elif number in self.duplicate_of:
            errors["slug"] = [
                ValidationError(
                    f"“{row['slug']}” is also the slug of row "
                    f"{sheet_row(self.duplicate_of[number])}; "
                    "give one of them another slug."
                )
            ]
        self._import_links(instance, row, errors)
        self._import_photo(instance, row, errors, dry_run=kwargs.get("dry_run", False))
        if errors:
            raise ValidationError(errors)

    def _import_links(self, instance: Nominee, row, errors: dict) -> None:
        if "links" not in row:
            return
        try:
            links = _links(row["links"])
        except ValueError as error:
            errors["links"] = [ValidationError(str(error))]
            return
        handle = links.pop("twitter_handle", "")
        if handle and instance.twitter_handle and handle.lower() != instance.twitter_handle.lower():
            errors["links"] = [
                ValidationError(
                    f"The X link's account @{handle} is not @{instance.twitter_handle}."
                )
            ]
        elif handle:
            instance.twitter_handle = handle
        for field in ("website", "linkedin_url", "facebook_url"):
            setattr(instance, field, links.get(field, ""))

    def _import_photo(self, instance: Nominee, row, errors: dict, *, dry_run: bool) -> None:
        name = row.get("photo", "")
        if not name:
            return  # a blank cell keeps the photo the nominee has
        if name.lower().startswith(("http://", "https://")):
            try:
                URLValidator(schemes=["http", "https"])(name)
            except ValidationError:
                errors["photo"] = [ValidationError(f"“{name}” is not a web link.")]
                return
            if instance.photo.name != photo_name(name.encode()):
                instance.photo_url = name  # fetched once the import is saved
            return
        if self.photos is None:
            errors["photo"] = [ValidationError(f"“{name}” needs the zip of photos uploaded too.")]
            return
        try:
            data = self.photos.read(name)
        except ValueError as error:
            errors["photo"] = [ValidationError(str(error))]
            return
        stored = photo_name(data)
        storage = instance.photo.storage
        if instance.photo.name != stored and not dry_run and not storage.exists(stored):
            try:
                photo = photo_reencoded(data)
            except ValueError as error:
                errors["photo"] = [ValidationError(f"“{name}” is {error}.")]
                return
            storage.save(stored, ContentFile(photo))
        instance.photo.name = stored


def nominees_import(
    *,
    award: Award,
    dataset: tablib.Dataset,
    photos: PhotoArchive | None = None,
    dry_run: bool,
    user=None,
) -> Result:
    """Import every row or none: any invalid row rolls the whole file back."""
    resource = NomineeResource(award=award, photos=photos)
    return resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=user,
    )


def sheet_row(number: int) -> int:
    """A data row's number (the first is 1) as a spreadsheet shows it, under its header row."""
    return number + 1


def import_problems(result: Result) -> list[str]:
    """Every reason the import was refused, one line each, by row as a spreadsheet numbers it."""
    problems = [str(error.error) for error in result.base_errors]
    for number, row_errors in result.row_errors():
        problems += [f"Row {sheet_row(number)}: {error.error}" for error in row_errors]
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            column = COLUMN_OF_FIELD.get(field, field)
            problems += [
                f"Row {sheet_row(invalid.number)}, {column}: {message}" for message in messages
            ]
    return problems


def import_summary(result: Result) -> Counter:
    return Counter({kind: count for kind, count in result.totals.items() if count})
