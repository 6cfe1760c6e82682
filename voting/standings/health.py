"""How fresh each open award's standings are: for /healthz and for /metrics."""

import dataclasses
import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from awards.models import Award
from voting.standings.services import standings_recompute


def open_award_ages(now: datetime.datetime | None = None) -> list[tuple[Award, float]]:
    """Each award open for voting, with the seconds since its standings were last recomputed.

    Counted from the opening when that is later: before it there are no votes to fold, so the
    standings of an award that opened a moment ago are not old.
    """
    now = now or timezone.now()
    awards = Award.objects.filter(voting_opens__lte=now, voting_closes__gt=now).annotate(
        computed_at=F("standings_snapshot__computed_at")
    )
    ages = []
    for award in awards.order_by("slug"):
        since = max(filter(None, (award.computed_at, award.voting_opens)))
        ages.append((award, max(0.0, (now - since).total_seconds())))
    return ages


@dataclasses.dataclass
class StandingsFresh(HealthCheck):
    """Every open award's standings were recomputed within STANDINGS_STALE_SECONDS.

    Stale standings while votes arrive mean no beat or no worker: pages show old ranks.
    """

    async def run(self) -> None:
        stale = await sync_to_async(self._stale_awards, thread_sensitive=True)()
        if stale:
            raise ServiceUnavailable(
                f"Standings not recomputed for over {settings.STANDINGS_STALE_SECONDS} s: "
                + ", ".join(stale)
            )

    def _stale_awards(self) -> list[str]:
        limit = settings.STANDINGS_STALE_SECONDS
        stale = [award for award, age in open_award_ages() if age > limit]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Embedded mode runs no beat, so nothing else would: do its work here, in-process.
            for award in stale:
                standings_recompute(award_id=award.pk)
            stale = [award for award, age in open_award_ages() if age > limit]
        return [award.slug for award in stale]
