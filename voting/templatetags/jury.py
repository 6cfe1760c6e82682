from fractions import Fraction

from django import template

from voting.jury.services import judged_awards
from voting.standings.results import out_of_100 as score_out_of_100

register = template.Library()


@register.filter
def out_of_100(share: Fraction) -> str:
    """A 0..1 share from the blend as a score out of 100, to one decimal."""
    return f"{score_out_of_100(share):.1f}"


@register.simple_tag
def judged_awards_of(user):
    """The awards this user judges, for the admin's home page."""
    return list(judged_awards(user).order_by("-voting_closes"))
