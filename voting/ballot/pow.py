"""The browser check: an ALTCHA proof of work, issued with the page and solved while it is read.

The challenge is signed and bound to the page's vote token, so one solution cannot serve two
votes, and its difficulty is chosen when the page is rendered (voting.integrity.assess.pow_difficulty).
It is issued in ALTCHA's deterministic mode: the server derives the key for a random counter
below twice the number of attempts and publishes only an HMAC of it, so a solver expects that
many attempts while the server checks a solution with one HMAC.

Each attempt is PBKDF2-SHA256 with COST iterations, which a browser runs natively (WebCrypto),
rather than one SHA-256 hash driven from JavaScript: measured (bench/pow_bench.py), a phone-speed
Chromium takes 2.4 times as long as altcha's own solver an attempt, where SHA-256 takes 4.
A difficulty still counts SHA-256 hashes of the script's work, as the award's settings say.
"""

import enum
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import altcha
from django.conf import settings

ALGORITHM = "PBKDF2/SHA-256"
COST = 100  # PBKDF2 iterations per attempt
# Units of difficulty (a script's SHA-256 hashes) one attempt stands for: one of these costs
# altcha's own solver as long as 15 SHA-256 attempts (bench/pow_bench.py, "in_sha256").
WORK_PER_ATTEMPT = 15
MAX_PAYLOAD = 4000


class PowStatus(enum.StrEnum):
    SOLVED = "solved"
    MISSING = "missing"  # no JavaScript: the plain form
    INVALID = "pow_invalid"


def _secret(purpose: str) -> str:
    return _derived_secret(purpose, settings.SECRET_KEY)


def _secrets(purpose: str) -> list[str]:
    """The current key's secret, then each fallback's: a key rotation keeps in-flight checks."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [_derived_secret(purpose, key) for key in keys]


@cache
def _derived_secret(purpose: str, secret_key: str) -> str:
    return hashlib.sha256(f"laurel.altcha.{purpose}:{secret_key}".encode()).hexdigest()


def challenge_issue(*, token_nonce: str, difficulty: int, expires_at: datetime) -> dict:
    """The challenge for one rendered vote form, as the ALTCHA widget reads it (JSON)."""
    attempts = max(1, math.ceil(difficulty / WORK_PER_ATTEMPT))
    challenge = altcha.create_challenge(
        ALGORITHM,
        cost=COST,
        counter=secrets.randbelow(max(2 * attempts, 2)),
        expires_at=expires_at,
        data={"token": token_nonce},
        hmac_secret=_secret("challenge"),
        hmac_key_secret=_secret("key"),
    )
    return challenge.to_dict()


@dataclass(frozen=True)
class PowCheck:
    status: PowStatus

    @property
    def solved(self) -> bool:
        return self.status is PowStatus.SOLVED


def challenge_verify(*, payload: str | None, token_nonce: str) -> PowCheck:
    """Whether `payload` (the widget's form field) solves a challenge issued for this token."""
    if not payload:
        return PowCheck(PowStatus.MISSING)
    if len(payload) > MAX_PAYLOAD:
        return PowCheck(PowStatus.INVALID)
    try:
        parsed = altcha.Payload.from_base64(payload)
        verified = any(
            altcha.verify_solution(parsed, challenge, hmac_key_secret=key).verified
            for challenge, key in zip(_secrets("challenge"), _secrets("key"), strict=True)
        )
        data = parsed.challenge.parameters.data or {}
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return PowCheck(PowStatus.INVALID)
    if not verified or not isinstance(data, dict) or data.get("token") != token_nonce:
        return PowCheck(PowStatus.INVALID)
    return PowCheck(PowStatus.SOLVED)


def challenge_solve(challenge: dict) -> str:
    """Solve a challenge as the widget would: for tests and benchmarks, never the server."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=120)
    if solution is None:
        raise TimeoutError("challenge not solved in time")
    return altcha.Payload(parsed, solution).to_base64()
