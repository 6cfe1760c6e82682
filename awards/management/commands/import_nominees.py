"""Import an award's nominees from a CSV or XLSX file, all rows or none (see README)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from awards.imports import (
    ImportFileError,
    PhotoArchive,
    dataset_read,
    import_problems,
    import_summary,
    nominees_import,
)
from awards.models import Award


class Command(BaseCommand):
    help = (
        "Import nominees from a CSV or XLSX file into an award; nothing is saved if a row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV (UTF-8) or XLSX file, one nominee a row")
        parser.add_argument("--award", required=True, help="the award's slug")
        parser.add_argument("--photos", type=Path, help="zip of the photos the rows name")
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row and report, save nothing"
        )

    def handle(self, *args, file: Path, award: str, photos: Path | None, dry_run: bool, **options):
        target = Award.objects.filter(slug=award).first()
        if target is None:
            raise CommandError(f"No award has the slug “{award}”.")
        try:
            dataset = dataset_read(data=_read(file), file_name=file.name)
            archive = PhotoArchive(photos) if photos else None
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"Cannot read {photos}: {error.strerror}.") from error
        result = nominees_import(award=target, dataset=dataset, photos=archive, dry_run=dry_run)
        problems = import_problems(result)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Nothing imported: {len(problems)} problem(s) in {file.name}. Fix them and retry."
            )
        totals = import_summary(result)
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {len(dataset)} row(s) into {target.slug}: {totals['new']} new, "
            f"{totals['update']} updated, {totals['skip']} unchanged."
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
