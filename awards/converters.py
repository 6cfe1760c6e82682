"""Path converters for award and nominee slugs, which refuse the words the URL scheme reserves.

A slug that cannot be reserved lets the public pages come first in the URLconf: resolving a
URL tries each pattern in turn, on every request, and the admin's two includes alone cost a
nominee page's resolution half its time when they come first. An award may not be called
"admin" or "api", nor a nominee "standings" (awards/models.py), so these patterns never take
another page's path, whatever their order.
"""

from django.urls.converters import SlugConverter

from awards.models import RESERVED_AWARD_SLUGS, RESERVED_NOMINEE_SLUGS


class AwardSlugConverter(SlugConverter):
    reserved = RESERVED_AWARD_SLUGS

    def to_python(self, value: str) -> str:
        # Django reads a ValueError as "this pattern does not match" and tries the next one.
        if value in self.reserved:
            raise ValueError(f"{value!r} is reserved")
        return value


class NomineeSlugConverter(AwardSlugConverter):
    reserved = RESERVED_NOMINEE_SLUGS
