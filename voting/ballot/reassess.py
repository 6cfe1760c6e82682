"""Votes recorded while the limit store (Redis) was down, assessed once it is back.

While the shared counts are out of reach no web process may judge a vote on counts of its own
(each would allow the thresholds again), so such votes are recorded and held (reason
"unassessed"). Here they go through the same assessment, in the order they were cast and at
the moment they were cast, and are counted or stay held for the reasons found.
"""

import ipaddress
from datetime import timedelta

from django.db import transaction

from laurel.lib.net import networks_of
from voting.integrity.assess import Reason, integrity_assess
from voting.integrity.holds import votes_set_status
from voting.integrity.tasks import assessment_follow_up
from voting.models import Vote
from voting.vocabulary import Voter

BATCH = 500


def votes_reassess(*, limit: int = BATCH) -> int | None:
    """Assess up to `limit` unassessed votes, oldest first; how many were, or None when the
    limit store is still down. Safe to run twice at once: each vote is taken under a lock."""
    pending = (
        Vote.objects.filter(status=Vote.Status.QUARANTINED, reasons__contains=Reason.UNASSESSED)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in list(pending):
        with transaction.atomic():
            vote = (
                Vote.objects.select_for_update(skip_locked=True)
                .select_related("nominee__award")
                .filter(pk=pk, status=Vote.Status.QUARANTINED, reasons__contains=Reason.UNASSESSED)
                .first()
            )
            if vote is None:
                continue
            if not _reassess(vote):
                return None
        done += 1
    return done


def _reassess(vote: Vote) -> bool:
    nominee = vote.nominee
    award = nominee.award
    codes = vote.reasons.split()
    networks = networks_of(ipaddress.ip_network(vote.ip, strict=False).network_address)
    voter = Voter(
        key=vote.voter_key,
        ip=vote.ip,
        user_agent=vote.user_agent,
        network=vote.network,
        wider=networks.wider,
    )
    fast = timedelta(milliseconds=vote.dwell_ms or 0) < timedelta(seconds=award.min_seconds_on_page)
    assessment = integrity_assess(
        award=award,
        nominee=nominee,
        voter=voter,
        returning=not vote.new_voter,
        verified=vote.verified,
        pow_invalid=Reason.POW_INVALID in codes,
        # Unverified, only if it was too fast then (a confirm step's click is not).
        fast=Reason.TOO_FAST in codes if not vote.verified else fast,
        now=vote.created_at,
    )
    if Reason.UNASSESSED in assessment.reasons:
        return False
    if assessment.retry_after is not None:
        reasons = str(Reason.OVER_CAP)
    else:
        reasons = " ".join(assessment.reasons)
    if not reasons:
        votes_set_status(vote_ids=[vote.pk], status=Vote.Status.COUNTED)
    Vote.objects.filter(pk=vote.pk).update(reasons=reasons)
    assessment_follow_up(
        award_id=award.pk, nominee_id=nominee.pk, assessment=assessment, now=vote.created_at
    )
    return True
