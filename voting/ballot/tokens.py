"""The one-time vote token: issued with each rendered vote form, good for one vote.

A token names the nominee, a random nonce and the moment the page was rendered, signed with a
key that includes the voter's cookie key. So a token copied into another browser (another
cookie) is foreign, one kept too long has expired, and one replayed is refused by the unique
`Vote.token` column: the database, not this module, decides "used once".
"""

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing

from awards.signing import signed

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


def _salt(voter_key: str) -> str:
    return f"{SALT}:{voter_key}"


def _signer(voter_key: str) -> signing.Signer:
    return signing.Signer(salt=_salt(voter_key))


def token_issue(
    *, voter_key: str, nominee_id: int, now: datetime, confirm: bool = False
) -> VoteToken:
    nonce = secrets.token_urlsafe(16)
    millis = int(now.timestamp() * 1000)
    mark = CONFIRM_MARK if confirm else ""
    # _signer(voter_key).sign(), made without building a Signer (awards/signing.py).
    value = signed(f"{nominee_id}.{nonce}.{millis}{mark}", salt=_salt(voter_key))
    return VoteToken(
        value=value, nonce=nonce, issued_at=datetime.fromtimestamp(millis / 1000, now.tzinfo)
    )


def token_check(*, value: str | None, voter_key: str, nominee_id: int, now: datetime) -> TokenCheck:
    """Whether `value` is a live token issued to this voter for this nominee."""
    if not value:
        return TokenCheck(TokenStatus.MISSING)
    if len(value) > 200 or value.count(".") != 2:
        return TokenCheck(TokenStatus.MALFORMED)
    try:
        payload = _signer(voter_key).unsign(value)
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
