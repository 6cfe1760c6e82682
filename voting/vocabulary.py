"""What the voting packages say to each other: a vote's outcome and who cast it.

A leaf module: it imports nothing of Laurel's, so the ballot, integrity and metrics can all
use these words without importing each other.
"""

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    COUNTED = "counted"
    # Recorded, but held for an organizer's review: it counts once they restore it.
    HELD = "held"
    ALREADY_VOTED = "already_voted"
    # The form's one-time token was missing, expired, foreign or used: nothing was recorded,
    # and the voter is asked to confirm with a fresh form.
    CONFIRM = "confirm"
    RATE_LIMITED = "rate_limited"
    NOT_OPEN = "not_open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Voter:
    key: str
    ip: str
    user_agent: str
    # The widest network counted for this address (IPv4 /24, IPv6 /48), stored on votes.
    network: str = ""
    # Every wider network the caps and signals count (IPv4 /24; IPv6 /56 and /48).
    wider: tuple[str, ...] = ()
    # When the server minted this voter's key (unix seconds; 0 for cookies older than the field).
    minted_at: float = 0.0
