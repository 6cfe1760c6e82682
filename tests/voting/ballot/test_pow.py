"""The browser check survives a key rotation, and only ever vouches for its own token."""

import base64
import json
from datetime import timedelta

from django.utils import timezone

from voting.ballot.pow import PowStatus, challenge_issue, challenge_solve, challenge_verify

OLD_KEY = "an-old-secret-key-that-is-long-enough-0123456789"
NEW_KEY = "the-new-secret-key-that-is-long-enough-0123456789"


def solved(nonce: str = "nonce-1") -> str:
    challenge = challenge_issue(
        token_nonce=nonce, difficulty=1, expires_at=timezone.now() + timedelta(minutes=5)
    )
    return challenge_solve(challenge)


def test_a_check_solved_as_the_widget_would_verifies():
    payload = solved()
    assert challenge_verify(payload=payload, token_nonce="nonce-1").status is PowStatus.SOLVED


def test_a_check_solved_before_a_key_rotation_still_verifies_with_the_old_key_as_fallback(
    settings,
):
    settings.SECRET_KEY = OLD_KEY
    payload = solved()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert challenge_verify(payload=payload, token_nonce="nonce-1").solved


def test_it_no_longer_verifies_once_the_old_key_is_dropped(settings):
    settings.SECRET_KEY = OLD_KEY
    payload = solved()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []
    check = challenge_verify(payload=payload, token_nonce="nonce-1")
    assert check.status is PowStatus.INVALID


def test_a_solution_for_another_token_is_refused():
    check = challenge_verify(payload=solved("nonce-1"), token_nonce="nonce-2")
    assert check.status is PowStatus.INVALID


def test_a_solution_whose_challenge_was_rebound_to_another_token_is_refused():
    payload = json.loads(base64.b64decode(solved("nonce-1")))
    payload["challenge"]["parameters"]["data"]["token"] = "nonce-2"  # signed for nonce-1
    tampered = base64.b64encode(json.dumps(payload).encode()).decode()
    assert challenge_verify(payload=tampered, token_nonce="nonce-2").status is PowStatus.INVALID


def test_no_solution_is_the_no_javascript_path():
    assert challenge_verify(payload=None, token_nonce="nonce-1").status is PowStatus.MISSING
