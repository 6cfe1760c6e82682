"""The nominee page's share sheet and the suggestions after a vote, as inclusion tags, so that
every page and fragment that shows them (the page, its <template>s, the vote's answer) builds
them the same way from the context it already has."""

from django import template
from django.utils import timezone

from voting.sharing.sheet import next_steps, share_kit
from voting.standings.public import public_standing
from voting.standings.services import standings_visibility

register = template.Library()


@register.inclusion_tag("voting/_share.html", takes_context=True)
def share_sheet(context) -> dict:
    nominee = context["nominee"]
    now = context.get("now") or timezone.now()
    public = context.get("public") or public_standing(nominee, now=now)
    page_url = context.get("share_url") or context["request"].build_absolute_uri(
        nominee.get_absolute_url()
    )
    return {
        "nominee": nominee,
        "kit": share_kit(nominee=nominee, page_url=page_url, public=public, now=now),
    }


@register.inclusion_tag("voting/_next_steps.html", takes_context=True)
def next_vote_steps(context) -> dict:
    nominee = context["nominee"]
    now = context.get("now") or timezone.now()
    visibility = context.get("visibility") or standings_visibility(nominee.award, now)
    # The page renders these up to three times (its box and the <template>s for JavaScript):
    # one set of suggestions per response.
    request = context.get("request")
    steps = getattr(request, "_laurel_next_steps", None)
    if steps is None or steps[0] != nominee.pk:
        steps = (nominee.pk, next_steps(nominee=nominee))
        if request is not None:
            request._laurel_next_steps = steps
    return {
        "award": nominee.award,
        "nominee": nominee,
        "steps": steps[1],
        "show_standings": not visibility.hidden,
    }
