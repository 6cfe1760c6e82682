"""The public integrity report: how many votes came in, how many counted, how many were held or
voided and for what kind of reason, per category, with the rules in force. Published with the
results (a frozen copy, IntegrityReport), and shown to each nominee for their own votes.

Figures only: never a threshold, an address, a network or a browser, which would tell a
script what to stay under.
"""

from collections import Counter, defaultdict
from datetime import datetime

from django.db.models import Count, QuerySet

from awards.models import Award
from voting.integrity.assess import Reason
from voting.models import IntegrityReport, Vote

# Each hold reason, in the family the public report names. A vote held for several reasons is
# counted under the first family it names, so that the families add up to the votes.
FAMILIES = {
    "crowd": "Many votes from one place at once",
    "automation": "Signs of a script (browser check missing, failed or too fast)",
    "burst": "A sudden burst for one nominee",
    "outage": "Checked after a service outage",
    "review": "An organizer's review",
}
FAMILY_OF = {
    Reason.NEW_VOTERS_ADDRESS: "crowd",
    Reason.NEW_VOTERS_NETWORK: "crowd",
    Reason.RETURNING_ADDRESS: "crowd",
    Reason.RETURNING_NETWORK: "crowd",
    Reason.FAST_CLUSTER: "crowd",
    Reason.OVER_CAP: "crowd",
    Reason.UNVERIFIED_ADDRESS: "automation",
    Reason.TOO_FAST: "automation",
    Reason.UNVERIFIED_SHARE: "automation",
    Reason.POW_INVALID: "automation",
    Reason.FAILED_CHECKS: "automation",
    Reason.NOMINEE_BURST: "burst",
    Reason.UNASSESSED: "outage",
}


def family_of(reasons: str) -> str:
    """The family of a held or void vote's first known reason; "review" for a vote an organizer
    held or voided by hand."""
    for code in reasons.split():
        if code in FAMILY_OF:
            return FAMILY_OF[Reason(code)]
    return "review"


def _figures(votes: QuerySet[Vote]) -> dict:
    """Received, counted, held and void votes, the families of the held and void, and the
    share checked by the browser check."""
    rows = votes.values("status", "reasons", "verified").annotate(n=Count("id")).order_by()
    status: Counter = Counter()
    families: dict[str, Counter] = defaultdict(Counter)
    verified = 0
    for row in rows:
        status[row["status"]] += row["n"]
        if row["verified"]:
            verified += row["n"]
        if row["status"] != Vote.Status.COUNTED:
            families[row["status"]][family_of(row["reasons"])] += row["n"]
    received = sum(status.values())
    return {
        "received": received,
        "counted": status[Vote.Status.COUNTED],
        "held": status[Vote.Status.QUARANTINED],
        "void": status[Vote.Status.VOID],
        "held_by_family": {key: families[Vote.Status.QUARANTINED][key] for key in FAMILIES},
        "void_by_family": {key: families[Vote.Status.VOID][key] for key in FAMILIES},
        "checked_by_browser": verified,
        "checked_share": round(verified / received, 4) if received else None,
    }


def with_family_labels(figures: dict) -> dict:
    """The figures with their held and void votes as (label, votes) pairs, the kinds with none
    left out, as the report and a nominee's toolkit list them."""
    return {
        **figures,
        "held_families": [(FAMILIES[k], n) for k, n in figures["held_by_family"].items() if n],
        "void_families": [(FAMILIES[k], n) for k, n in figures["void_by_family"].items() if n],
    }


def integrity_report(award: Award, *, now: datetime) -> dict:
    """The report as it stands now: figures for the award and each of its categories, the rules
    in force, and when the standings were frozen."""
    votes = Vote.objects.filter(award=award)
    categories = []
    for category in award.categories.all():
        figures = _figures(votes.filter(category=category))
        categories.append({"name": category.name, "slug": category.slug, **figures})
    return {
        "generated_at": now.isoformat(),
        "award": award.name,
        "totals": _figures(votes),
        "categories": categories,
        "families": FAMILIES,
        "rules": {
            "interval": award.get_interval_kind_display(),
            "interval_hours": award.vote_interval.total_seconds() / 3600,
            "scope": award.get_vote_scope_display(),
            "voting_opens": award.voting_opens.isoformat(),
            "voting_closes": award.voting_closes.isoformat(),
            "time_zone": award.time_zone,
        },
        "standings_frozen_at": (
            award.results_frozen_at.isoformat() if award.results_frozen_at else None
        ),
    }


def nominee_integrity(nominee_id: int) -> dict:
    """The same figures for one nominee's own votes, for their private stats page."""
    return _figures(Vote.objects.filter(nominee_id=nominee_id))


def integrity_report_publish(award: Award, *, now: datetime) -> IntegrityReport:
    """Freezes the report beside the published results (called in their transaction)."""
    award.refresh_from_db(fields=["results_frozen_at"])
    report, _created = IntegrityReport.objects.update_or_create(
        award=award, defaults={"published_at": now, "figures": integrity_report(award, now=now)}
    )
    return report


def published_integrity_report(award: Award, *, now: datetime) -> IntegrityReport | None:
    """The frozen report, once the results it was published with are public."""
    if award.results_published_at is None or award.results_published_at > now:
        return None
    return IntegrityReport.objects.filter(award=award).first()
