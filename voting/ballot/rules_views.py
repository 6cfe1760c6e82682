"""An award's official rules and its privacy notice: public pages linked from every page of
the award, built from what organizers write and from the award's own settings, so that the
rule stated is the rule enforced."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from awards.lookups import get_award_or_404
from laurel.lib.responses import shared_page
from voting.ballot.views import OUTCOME_SECONDS
from voting.ballot.voters import COOKIE_MAX_AGE, COOKIE_NAME


@shared_page
@require_safe
def rules(request: HttpRequest, award_slug: str) -> HttpResponse:
    award = get_award_or_404(award_slug)
    context = {"award": award, "now": timezone.now(), "categories": award.categories.all()}
    return render(request, "voting/ballot/rules.html", context)


@shared_page
@require_safe
def privacy(request: HttpRequest, award_slug: str) -> HttpResponse:
    award = get_award_or_404(award_slug)
    context = {
        "award": award,
        "now": timezone.now(),
        "cookie_name": COOKIE_NAME,
        "cookie_days": COOKIE_MAX_AGE // 86400,
        "outcome_seconds": OUTCOME_SECONDS,
    }
    return render(request, "voting/ballot/privacy.html", context)
