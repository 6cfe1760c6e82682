"""The public integrity report, published with the results: /<award>/integrity/."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_safe

from awards.lookups import get_award_or_404
from laurel.lib.responses import shared_page
from voting.integrity.report import published_integrity_report, with_family_labels


@shared_page
@require_safe
def integrity_report_page(request: HttpRequest, award_slug: str) -> HttpResponse:
    award = get_award_or_404(award_slug)
    now = timezone.now()
    report = published_integrity_report(award, now=now)
    if report is None:
        raise Http404("The integrity report is published with the results.")
    figures = report.figures
    rows = [
        with_family_labels(row)
        for row in [{"name": "All categories", **figures["totals"]}, *figures["categories"]]
    ]
    context = {
        "award": award,
        "now": now,
        "report": report,
        "rows": rows,
        "rules": figures["rules"],
        "frozen_at": parse_datetime(figures["standings_frozen_at"] or ""),
        "opens": parse_datetime(figures["rules"]["voting_opens"]),
        "closes": parse_datetime(figures["rules"]["voting_closes"]),
    }
    return render(request, "voting/integrity/report.html", context)
