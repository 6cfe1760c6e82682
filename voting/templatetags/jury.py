from fractions import Fraction

from django import template

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
