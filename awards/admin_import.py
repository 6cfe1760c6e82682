"""The nominee list's Import page: upload, preview every row's changes, confirm (see imports.py).

Loaded by NomineeAdmin on the page's first use, not at start-up: django-import-export brings
tablib, openpyxl and Pillow, which web workers serving public pages have no use for.
"""

import os
import tempfile
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import TempFolderStorage

from awards.imports import (
    IMPORT_FORMATS,
    ImportFileError,
    NomineeResource,
    PhotoArchive,
    import_problems,
)
from awards.models import Award
from awards.roles import ORGANIZER, AwardScopedAdmin, awards_for

# An import not confirmed within this time is abandoned: its files are removed.
ABANDONED_SECONDS = 24 * 60 * 60


def import_dir() -> Path:
    settings.IMPORT_DIR.mkdir(parents=True, exist_ok=True)
    return settings.IMPORT_DIR


class SharedFolderStorage(TempFolderStorage):
    """django-import-export's temporary-file storage, in IMPORT_DIR rather than the container's
    own temporary folder: the confirm step may reach another web container than the preview."""

    def get_full_path(self) -> str:
        # Names (the file's and the photos') come back from the confirm form: only a file name
        # in IMPORT_DIR, never a path.
        return str(import_dir() / os.path.basename(self.name))

    def _open(self, mode="r"):
        if not self.name:
            self.name = uuid.uuid4().hex
            return open(self.get_full_path(), "xb")  # save(): the uploaded bytes
        return open(self.get_full_path(), mode, encoding=self.encoding)


def imports_abandoned_remove(now: float | None = None) -> None:
    """Remove the files of imports previewed over a day ago and never confirmed."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(settings.IMPORT_DIR))
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            if entry.is_file() and entry.stat().st_mtime < now - ABANDONED_SECONDS:
                os.remove(entry.path)
        except FileNotFoundError:
            pass  # another container removed it first


class NomineeImportForm(ImportForm):
    award = forms.ModelChoiceField(queryset=Award.objects.none(), help_text="The award to fill.")
    photos = forms.FileField(
        required=False,
        label="Photos (zip)",
        help_text="Optional: a zip of the images the “photo” column names by file name.",
    )
    field_order = ["award", "import_file", "format", "photos"]

    def __init__(self, *args, awards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["award"].queryset = awards
        self.fields["import_file"].help_text = "CSV (UTF-8) or Excel XLSX, one nominee a row."

    def clean_photos(self):
        """The zip, copied to IMPORT_DIR for the preview and the confirm step; its name there.
        Copied a chunk at a time: a thousand photos are hundreds of megabytes."""
        upload = self.cleaned_data.get("photos")
        if upload is None:
            return None
        with tempfile.NamedTemporaryFile(dir=import_dir(), delete=False) as kept:
            for chunk in upload.chunks():
                kept.write(chunk)
        try:
            PhotoArchive(kept.name)
        except ImportFileError as error:
            os.remove(kept.name)
            raise forms.ValidationError(str(error), code="not_a_zip") from error
        return os.path.basename(kept.name)


class NomineeConfirmImportForm(ConfirmImportForm):
    award = forms.ModelChoiceField(queryset=Award.objects.none(), widget=forms.HiddenInput)
    photos_file_name = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, awards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["award"].queryset = awards


class NomineeImportAdmin(ImportMixin, AwardScopedAdmin, admin.ModelAdmin):
    """The import pages of NomineeAdmin, which serves them through this (see its get_urls)."""

    resource_classes = [NomineeResource]
    import_template_name = "admin/awards/nominee/import.html"
    import_form_class = NomineeImportForm
    confirm_form_class = NomineeConfirmImportForm
    import_error_display = ("message",)
    tmp_storage_class = SharedFolderStorage

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:
            # Confirmed twice (another tab), or left for over a day: its files are gone.
            messages.error(
                request,
                "This import's files are gone: it was confirmed already, or was left unconfirmed "
                "for over a day. Nothing was imported; upload the file again.",
            )
            return HttpResponseRedirect(reverse("admin:awards_nominee_import"))

    def write_to_tmp_storage(self, import_file, input_format):
        imports_abandoned_remove()
        return super().write_to_tmp_storage(import_file, input_format)

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            form.add_error("import_file", "The file cannot be read in the chosen format.")

    def get_import_formats(self):
        return IMPORT_FORMATS

    def has_import_permission(self, request):
        # NomineeAdmin's rule, which ImportMixin's own would hide.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_form_kwargs(self, request):
        return super().get_import_form_kwargs(request) | {"awards": self._awards(request)}

    def get_confirm_form_kwargs(self, request, import_form=None):
        return super().get_confirm_form_kwargs(request, import_form) | {
            "awards": self._awards(request)
        }

    def _awards(self, request):
        return awards_for(request.user, role=ORGANIZER).order_by("name")

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["award"] = import_form.cleaned_data["award"].pk
            initial["photos_file_name"] = getattr(import_form, "photos_file_name", "")
        return initial

    def get_import_resource_kwargs(self, request, form=None, **kwargs):
        if form is None or not form.is_bound or not form.is_valid():
            return {}
        if isinstance(form, NomineeImportForm):
            # Kept for the confirm step, like the file itself.
            name = form.photos_file_name = form.cleaned_data["photos"] or ""
        else:
            name = form.cleaned_data["photos_file_name"]
        photos = PhotoArchive(SharedFolderStorage(name=name).get_full_path()) if name else None
        award = form.cleaned_data["award"]
        if isinstance(form, NomineeImportForm):
            messages.info(request, f"Into {award}: nothing is saved until you confirm.")
        return {"award": award, "photos": photos}

    def get_import_data_kwargs(self, **kwargs):
        # Any bad row rolls the whole file back, at the confirm step too.
        return super().get_import_data_kwargs(**kwargs) | {"rollback_on_validation_errors": True}

    def process_dataset(self, dataset, form, request, **kwargs):
        result = super().process_dataset(dataset, form, request, **kwargs)
        if name := form.cleaned_data.get("photos_file_name"):
            SharedFolderStorage(name=name).remove()
        return result

    def process_result(self, result, request):
        problems = import_problems(result)
        if not problems:
            return super().process_result(result, request)
        # The rows changed between preview and confirm: nothing was saved, say why.
        for problem in problems[:20]:
            messages.error(request, problem)
        messages.error(request, "Nothing was imported. Fix the file and import it again.")
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")
        return HttpResponseRedirect(url)
