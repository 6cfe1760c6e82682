from django.db import models

from awards.models import Award, Category, Nominee


class Ballot(models.Model):
    """One voter's clock in one scope of an award: when they may vote there next.

    The 24-hour rule lives here, in a row per voter and scope, so that deciding a vote is one
    conditional statement on a row that only that voter touches (see voting.services.ballot_claim).
    """

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    voter_key = models.CharField(max_length=64)
    # "n:<nominee id>", "c:<category id>" or "a", from the award's scope when the vote was cast.
    scope_key = models.CharField(max_length=32)
    next_vote_at = models.DateTimeField()
    last_vote_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The ON CONFLICT target of ballot_claim; also the lookup for "when can I vote again".
            models.UniqueConstraint(
                fields=["award", "voter_key", "scope_key"], name="ballot_one_clock_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter_key[:8]}… {self.scope_key} until {self.next_vote_at:%Y-%m-%d %H:%M}"


class Vote(models.Model):
    """A vote as cast: inserted once, never updated by voting, so nothing hot is ever locked."""

    class Status(models.TextChoices):
        COUNTED = "counted", "Counted"
        QUARANTINED = "quarantined", "Quarantined (under review)"
        VOID = "void", "Void"

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="+")
    nominee = models.ForeignKey(Nominee, on_delete=models.PROTECT, related_name="votes")
    # The nominee's category when the vote was cast: per-category scope and integrity reports.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    voter_key = models.CharField(max_length=64)
    # The client address, or its /64 network for IPv6, as the per-IP cap counts it.
    ip = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    # The share channel the voter arrived from (?ref=twitter), for integrity reports.
    ref = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COUNTED)

    class Meta:
        indexes = [
            # Counting a nominee's counted votes (standings, exactness checks).
            models.Index(fields=["nominee", "status"], name="vote_nominee_status"),
            # Integrity tools: one voter's history, and one address's burst of votes.
            models.Index(fields=["voter_key", "created_at"], name="vote_voter_time"),
            models.Index(fields=["award", "ip", "created_at"], name="vote_award_ip_time"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk} for {self.nominee_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"
