"""How fresh each open award's standings are: for /healthz and for /metrics."""

import dataclasses

from asgiref.sync import sync_to_async
from django.conf import settings
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from voting.metrics.collector import open_award_ages
from voting.standings.services import standings_recompute


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
