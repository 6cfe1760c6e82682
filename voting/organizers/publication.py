"""Publishing an award's results: the frozen standings (voting.standings.results), with the
jury's blend where the award has a jury (voting.jury), and the public integrity report
(voting.integrity.report), in one transaction."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from awards.models import Award
from voting.integrity.report import integrity_report_publish
from voting.jury.blend import Blended
from voting.jury.services import JuryScores, blended_results, jury_progress
from voting.models import AuditEntry
from voting.standings.results import PublishCheck, publish_check, results_publish


def award_blend(award: Award, jury: JuryScores | None = None) -> dict[int, Blended]:
    """Every finalist's place in the blend: nominee id -> Blended; empty without a jury."""
    if not award.has_jury:
        return {}
    blended = blended_results(award, jury)
    return {row.nominee_id: row for rows in blended.values() for row in rows}


def jury_pending(award: Award) -> int:
    if not award.has_jury:
        return 0
    return jury_progress(award).pending


def publication_check(award: Award, *, now: datetime) -> PublishCheck:
    return publish_check(award, now=now, jury_pending=jury_pending(award))


def publication_publish(*, award: Award, now: datetime | None = None, **publish) -> AuditEntry:
    """results_publish with the jury's blend and pending scores, then the integrity report
    frozen beside it; `publish` are results_publish's own arguments."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = results_publish(
            award=award, now=now, blend=award_blend, jury_pending=jury_pending(award), **publish
        )
        integrity_report_publish(award, now=now)
    return entry
