from django.core.management.base import BaseCommand, CommandError

from awards.models import Award
from voting.models import Standing
from voting.standings.services import raw_counts, standings_rebuild, standings_recompute


class Command(BaseCommand):
    help = "Check that each award's standings equal a raw count of counted votes (--repair fixes)."

    def add_arguments(self, parser):
        parser.add_argument("award", nargs="*", help="Award slugs (default: all).")
        parser.add_argument(
            "--repair", action="store_true", help="Recount from scratch on a mismatch."
        )

    def handle(self, *args, award: list[str], repair: bool, **options):
        awards = Award.objects.filter(slug__in=award) if award else Award.objects.all()
        mismatched = 0
        for item in awards:
            standings_recompute(award_id=item.pk)
            counts = raw_counts(award_id=item.pk)
            shown = dict(Standing.objects.filter(award=item).values_list("nominee_id", "votes"))
            wrong = {n: (shown.get(n, 0), c) for n, c in counts.items() if shown.get(n, 0) != c}
            wrong |= {n: (v, 0) for n, v in shown.items() if v and n not in counts}
            if not wrong:
                self.stdout.write(f"{item.slug}: exact ({sum(counts.values())} counted votes)")
                continue
            mismatched += 1
            self.stdout.write(self.style.WARNING(f"{item.slug}: {len(wrong)} nominees differ"))
            for nominee_id, (standing, count) in sorted(wrong.items())[:20]:
                self.stdout.write(f"  nominee {nominee_id}: standings {standing}, votes {count}")
            if repair:
                standings_rebuild(award_id=item.pk)
                self.stdout.write(self.style.SUCCESS(f"{item.slug}: rebuilt from the votes"))
        if mismatched and not repair:
            raise CommandError(f"{mismatched} award(s) differ; run again with --repair")
