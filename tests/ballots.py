"""Casting votes as a browser does: a token from a rendered page, the browser check, a click later.

A vote needs the one-time token of a rendered form, and a new voter who clicks sooner than a
person can is held; these helpers do what a person's browser does, a few seconds apart.
"""

import html
import ipaddress
import random
import re
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.test import Client
from django.utils import timezone

from awards.models import Nominee
from laurel.lib.net import networks_of
from voting.ballot.pow import challenge_issue, challenge_solve
from voting.ballot.services import VoteResult, vote_cast
from voting.ballot.tokens import token_issue
from voting.vocabulary import Voter

READING_TIME = timedelta(seconds=8)
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CHALLENGE = re.compile(r'<altcha-widget challenge="([^"]+)"')


def voter_at(
    address: str, key: str | None = None, *, minted_at: float | None = None, agent: str = "ua"
) -> Voter:
    """A voter at `address` whose cookie was minted at `minted_at` (now, by default)."""
    networks = networks_of(ipaddress.ip_address(address))
    return Voter(
        key=key or uuid.uuid4().hex,
        ip=networks.address,
        user_agent=agent,
        network=networks.network,
        wider=networks.wider,
        minted_at=time.time() if minted_at is None else minted_at,
    )


def voter_somewhere(agent: str = "t") -> Voter:
    """A new voter at an address (and a /24) of their own, as most honest voters are."""
    octets = (_rng.randrange(11, 99), _rng.randrange(256), _rng.randrange(256))
    return voter_at("{}.{}.{}.{}".format(*octets, _rng.randrange(1, 255)), agent=agent)


# Not the random module's generator, which Hypothesis seeds alike for every example.
_rng = random.SystemRandom()


def cast_vote(
    *,
    nominee: Nominee,
    voter: Voter,
    now: datetime,
    ref: str = "",
    verified: bool = True,
    read_for: timedelta = READING_TIME,
) -> VoteResult:
    """vote_cast with a token issued `read_for` before `now`, and its browser check solved."""
    token = token_issue(voter_key=voter.key, nominee_id=nominee.pk, now=now - read_for)
    proof = None
    if verified:
        challenge = challenge_issue(
            # ALTCHA checks expiry against the real clock, whatever `now` a test uses.
            token_nonce=token.nonce,
            difficulty=1,
            expires_at=timezone.now() + timedelta(hours=1),
        )
        proof = challenge_solve(challenge)
    return vote_cast(nominee=nominee, voter=voter, now=now, token=token.value, proof=proof, ref=ref)


@contextmanager
def clock_at(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def form_of(page) -> dict:
    """The vote form's fields as the page rendered them: token and, if asked, the check."""
    match = TOKEN.search(page.content.decode())
    assert match, "the page has no vote form"
    return {"token": html.unescape(match.group(1))}


def solved_check(page, **headers) -> str:
    """The widget's work: fetch the page's challenge (with the page's client, so its cookie and
    address) and solve it."""
    url = html.unescape(CHALLENGE.search(page.content.decode()).group(1))
    answer = page.client.get(url, **headers)
    assert answer.status_code == 200, answer.content
    return challenge_solve(answer.json())


def solved_form(page) -> dict:
    """The fields a browser with JavaScript sends: the token and the solved browser check."""
    return {**form_of(page), "altcha": solved_check(page)}


def vote_like_a_browser(
    nominee: Nominee,
    client: Client | None = None,
    *,
    javascript: bool = True,
    read_for: timedelta = READING_TIME,
    data: dict | None = None,
    **extra,
):
    """Open the nominee's page, read it for a while, click Vote; returns the vote's response.

    `extra` goes with both requests (REMOTE_ADDR, HTTP_ACCEPT, HTTP_USER_AGENT, ...). A new
    Client, the default, is a new browser: a first-time voter. A vote posted as a form is
    answered with a redirect to the nominee's page, which the browser follows: the response is
    that page (its `redirect_chain` holds the 303); a JSON vote's response is the JSON.
    """
    client = client or Client()
    page_extra = {key: value for key, value in extra.items() if key != "HTTP_ACCEPT"}
    query = {"ref": data["ref"]} if data and "ref" in data else {}
    page = client.get(nominee.get_absolute_url(), query, **page_extra)
    fields = form_of(page)
    if javascript:
        fields["altcha"] = solved_check(page, **page_extra)
    fields.update(data or {})
    follow = "application/json" not in extra.get("HTTP_ACCEPT", "")
    with clock_at(timezone.now() + read_for):
        return client.post(nominee.get_absolute_url() + "vote/", fields, follow=follow, **extra)


def votes_for(nominee, count: int, *, status: str = "counted") -> None:
    """`count` votes with this status, inserted as they stand two hours before the close, and
    the counted ones pending for the next standings recompute."""
    from voting.models import TallyDelta, Vote

    at = nominee.award.voting_closes - timedelta(hours=2)
    Vote.objects.bulk_create(
        Vote(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            created_at=at,
            voter_key=f"{nominee.pk}-{status}-{n}",
            ip=f"198.51.{nominee.pk % 250}.{n % 250}",
            status=status,
        )
        for n in range(count)
    )
    if status == Vote.Status.COUNTED:
        TallyDelta.objects.create(award=nominee.award, nominee=nominee, amount=count)
