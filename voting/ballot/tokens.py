"""The one-time vote token: issued with each rendered vote form, good for one vote.

A token names the nominee, a random nonce and the moment the page was rendered, signed together
with the voter's cookie key (which the token itself does not show). So a token copied into
another browser (another cookie) is foreign, one kept too long has expired, and one replayed is
refused by the unique `Vote.token` column: the database, not this module, decides "used once".
Bound to the voter's cookie and the nominee, it is also the vote form's synchronizer token
against cross-site requests (voting/ballot/views.py's vote).
"""

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.core import signing
from django.core.signals import setting_changed
from django.dispatch import receiver

SALT = "laurel.vote-token"
# Ends the issue time of a token issued with the confirm step (signed, like the rest).
CONFIRM_MARK = "c"


class TokenStatus(enum.StrEnum):
    OK = "ok"
    MISSING = "token_missing"
    MALFORMED = "token_malformed"
    FOREIGN = "token_foreign"
    EXPIRED = "token_expired"


@dataclass(frozen=True)
class VoteToken:
    value: str
    nonce: str
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + token_lifetime()


@dataclass(frozen=True)
class TokenCheck:
    status: TokenStatus
    nonce: str = ""
    issued_at: datetime | None = None
    # Issued with "Please confirm your vote": the click it carries is the confirmation.
    confirm: bool = False

    @property
    def ok(self) -> bool:
        return self.status is TokenStatus.OK


def token_lifetime() -> timedelta:
    return timedelta(seconds=settings.VOTE_TOKEN_SECONDS)


@cache
def signer() -> signing.Signer:
    """The one signer of vote tokens (SECRET_KEY_FALLBACKS still verify older ones)."""
    return signing.Signer(salt=SALT)


@receiver(setting_changed)
def signer_forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("SECRET_KEY"):
        signer.cache_clear()


def token_issue(
    *, voter_key: str, nominee_id: int, now: datetime, confirm: bool = False
) -> VoteToken:
    nonce = secrets.token_urlsafe(16)
    millis = int(now.timestamp() * 1000)
    mark = CONFIRM_MARK if confirm else ""
    bound = signer().sign(f"{voter_key}.{nominee_id}.{nonce}.{millis}{mark}")
    return VoteToken(
        value=bound.removeprefix(f"{voter_key}."),
        nonce=nonce,
        issued_at=datetime.fromtimestamp(millis / 1000, now.tzinfo),
    )


def token_check(*, value: str | None, voter_key: str, nominee_id: int, now: datetime) -> TokenCheck:
    """Whether `value` is a live token issued to this voter for this nominee."""
    if not value:
        return TokenCheck(TokenStatus.MISSING)
    if len(value) > 200 or value.count(".") != 2:
        return TokenCheck(TokenStatus.MALFORMED)
    try:
        payload = signer().unsign(f"{voter_key}.{value}").removeprefix(f"{voter_key}.")
    except signing.BadSignature:
        # Signed for another cookie (a copied or replayed request) or forged.
        return TokenCheck(TokenStatus.FOREIGN)
    nominee, nonce, millis = payload.split(".")
    if nominee != str(nominee_id):
        return TokenCheck(TokenStatus.FOREIGN)
    confirm = millis.endswith(CONFIRM_MARK)
    issued_at = datetime.fromtimestamp(int(millis.removesuffix(CONFIRM_MARK)) / 1000, now.tzinfo)
    if now - issued_at > token_lifetime():
        return TokenCheck(TokenStatus.EXPIRED, nonce, issued_at)
    return TokenCheck(TokenStatus.OK, nonce, issued_at, confirm)
