from fractions import Fraction

from django import template

from voting.jury.services import judged_awards

register = template.Library()


@register.filter
def out_of_100(share) -> str:
    """A 0..1 share (a Fraction from the blend, or a stored score already out of 100) as a
    score out of 100 with one decimal."""
    if share is None:
        return "—"
    if isinstance(share, Fraction):
        share = float(share) * 100
    return f"{float(share):.1f}"


@register.simple_tag
def judged_awards_of(user):
    """The awards this user judges, for the admin's home page."""
    return list(judged_awards(user).order_by("-voting_closes"))


@register.filter
def get_place(blend: dict, nominee_id: int):
    """A finalist's place in the blend (nominee id -> Blended), or None."""
    return blend.get(nominee_id)
