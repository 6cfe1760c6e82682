"""A nominee's secret stats link, /<award>/<nominee>/stats/<token>/, which organizers send: it
opens the nominee's private toolkit (their votes, badge, QR code and share texts).

The token signs the nominee's id and its `stats_key_version`, so bumping the version (the
admin's "Revoke stats links") turns every link sent so far into a 404, and rotating SECRET_KEY
does the same for all nominees at once. The page itself is voting's
(voting/sharing/stats_views.py).
"""

from functools import cache

from django.core import signing
from django.core.signals import setting_changed
from django.db.models import F, QuerySet
from django.dispatch import receiver
from django.urls import reverse

from awards.models import Nominee

STATS_SALT = "laurel.nominee-stats"


@cache
def stats_signer() -> signing.Signer:
    return signing.Signer(salt=STATS_SALT)


@receiver(setting_changed)
def stats_signer_forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("SECRET_KEY"):
        stats_signer.cache_clear()


def stats_token(nominee: Nominee) -> str:
    """The secret part of the nominee's stats link: the same until the link is revoked."""
    return stats_signer().sign_object({"n": nominee.pk, "v": nominee.stats_key_version})


def stats_token_valid(*, nominee: Nominee, token: str) -> bool:
    """Whether `token` opens this nominee's stats: signed by Laurel, for this nominee, and
    not revoked since."""
    try:
        value = stats_signer().unsign_object(token)
    except (signing.BadSignature, ValueError):
        return False
    return (
        isinstance(value, dict)
        and value.get("n") == nominee.pk
        and value.get("v") == nominee.stats_key_version
    )


def stats_path(nominee: Nominee) -> str:
    return reverse(
        "nominee-stats",
        kwargs={
            "award_slug": nominee.award.slug,
            "nominee_slug": nominee.slug,
            "token": stats_token(nominee),
        },
    )


def stats_links_revoke(*, nominees: QuerySet[Nominee]) -> int:
    """Revoke the stats links of these nominees; returns how many nominees changed."""
    # One statement: two organizers revoking at once still move every version forward.
    return nominees.update(stats_key_version=F("stats_key_version") + 1)
