from datetime import datetime

from django import template
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(moment: datetime | None, now: datetime) -> str:
    """ "8 seconds ago" under a minute (standings refresh every few seconds), else timesince."""
    if moment is None:
        return ""
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        seconds = max(seconds, 0)
        return f"{seconds} second{'' if seconds == 1 else 's'} ago"
    return f"{timesince(moment, now)} ago"
