"""The nominee page's share sheet and the suggestions after a vote, as inclusion tags, so that
every page and fragment that shows them (the page, its <template>s, the vote's answer) builds
them the same way from the context it already has."""

from django import template
from django.utils import timezone

from voting.sharing.share import ZoneChoice, reminder_zone_choices
from voting.sharing.sheet import next_steps, share_kit
from voting.standings.public import public_standing
from voting.standings.services import standings_visibility

register = template.Library()


@register.inclusion_tag("voting/sharing/_share.html", takes_context=True)
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


@register.inclusion_tag("voting/sharing/_next_steps.html", takes_context=True)
def next_vote_steps(context) -> dict:
    nominee = context["nominee"]
    now = context.get("now") or timezone.now()
    visibility = context.get("visibility") or standings_visibility(nominee.award, now)
    # A page shows these up to three times (its box and the <template>s for JavaScript), from
    # two renderings (the shared page and the voter's box): one set of suggestions a response,
    # kept in the dict the view gives both ("next_steps_memo"), or else in this rendering.
    memo = context.get("next_steps_memo")
    if memo is None:
        memo = context.render_context.setdefault("laurel.next_steps", {})
    if nominee.pk not in memo:
        memo[nominee.pk] = next_steps(nominee=nominee)
    return {
        "award": nominee.award,
        "nominee": nominee,
        "steps": memo[nominee.pk],
        "show_standings": not visibility.hidden,
    }


@register.simple_tag(takes_context=True)
def reminder_zones(context) -> list[ZoneChoice]:
    award = context["nominee"].award
    return reminder_zone_choices(now=context.get("now") or timezone.now(), extra=award.time_zone)
