"""What /metrics shows: the counters (voting/metrics/counters.py) and how old each open
award's standings are (also read by /healthz, voting/standings/health.py)."""

import datetime
from collections.abc import Iterator

from django.db.models import F
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from awards.models import Award
from voting.metrics.counters import OUTCOMES, RECOMPUTE_BUCKETS, REFUSALS, metrics_read


class LaurelCollector(Collector):
    """What /metrics shows, read afresh on every scrape."""

    def collect(self) -> Iterator:
        values = metrics_read()
        votes = CounterMetricFamily(
            "laurel_votes", "Votes answered, by outcome.", labels=["outcome"]
        )
        for outcome in OUTCOMES:
            votes.add_metric([outcome], values.get(f"votes:{outcome}", 0))
        yield votes
        refused = CounterMetricFamily(
            "laurel_votes_refused", "Votes refused, by reason.", labels=["reason"]
        )
        for reason in REFUSALS:
            refused.add_metric([reason], values.get(f"refused:{reason}", 0))
        yield refused
        yield self._recompute_histogram(values)
        ages = GaugeMetricFamily(
            "laurel_standings_age_seconds",
            "Seconds since each open award's standings were last recomputed.",
            labels=["award"],
        )
        for award, age in open_award_ages():
            ages.add_metric([award.slug], age)
        yield ages

    @staticmethod
    def _recompute_histogram(values: dict[str, int]) -> HistogramMetricFamily:
        buckets, total = [], 0
        for le in (*RECOMPUTE_BUCKETS, "+Inf"):
            total += values.get(f"recompute:le:{le}", 0)
            buckets.append((str(le), total))
        return HistogramMetricFamily(
            "laurel_standings_recompute_seconds",
            "Time taken by each standings recompute.",
            buckets=buckets,
            sum_value=values.get("recompute:sum_us", 0) / 1e6,
        )


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
