from django.conf import settings
from django.db import models

from awards.models import Award, Category, Criterion, Nominee


class Ballot(models.Model):
    """One voter's clock in one scope of an award: when they may vote there next.

    The 24-hour rule lives here, in a row per voter and scope, so that deciding a vote is one
    conditional statement on a row that only that voter touches (see voting.ballot.services._claim_sql).
    """

    # No database-level foreign key: every vote touches a ballot, and the check would take a
    # share lock on the award's row each time. Django still cascades deletes.
    award = models.ForeignKey(
        Award, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    voter_key = models.CharField(max_length=64)
    # "n:<nominee id>", "c:<category id>" or "a", from the award's scope when the vote was cast.
    scope_key = models.CharField(max_length=32)
    next_vote_at = models.DateTimeField()
    last_vote_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The ON CONFLICT target of the vote's claim; also the lookup for "when can I vote again".
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
    # Why a vote is held (quarantined): space-separated codes from voting.integrity.assess.Reason.
    reasons = models.CharField(max_length=200, blank=True)
    # The nonce of the one-time token the vote was cast with; unique, so a replayed token can
    # never insert a second vote. Null for votes cast before tokens existed.
    token = models.CharField(max_length=32, null=True, blank=True, unique=True)
    # The wider network of `ip` (IPv4 /24, IPv6 /48), for integrity clusters.
    network = models.CharField(max_length=64, blank=True)
    # The browser solved the proof of work (JavaScript on); False for the no-JavaScript form.
    verified = models.BooleanField(default=False)
    # The voter cookie was minted within the last day: a first-time (or cookie-clearing) voter.
    new_voter = models.BooleanField(default=False)
    # Milliseconds between the page load that issued the token and the vote.
    dwell_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # raw_counts: an award's counted votes per nominee, from the index alone (rebuilds and
            # standings_verify).
            models.Index(fields=["award", "status", "nominee"], name="vote_award_status_nominee"),
            # Integrity tools: one voter's history, and one address's burst of votes.
            models.Index(fields=["voter_key", "created_at"], name="vote_voter_time"),
            models.Index(fields=["award", "ip", "created_at"], name="vote_award_ip_time"),
            # The integrity review: an award's votes within a time range, and their clusters.
            models.Index(fields=["award", "created_at"], name="vote_award_time"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk} for {self.nominee_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class TallyDelta(models.Model):
    """A change to a nominee's count not yet folded into the standings.

    Casting a vote inserts +1 here in the same transaction; voiding it inserts -1. A recompute
    deletes the rows it folds in, in its own transaction, so its cost follows the votes since
    the last recompute and a crash in the middle leaves every row to the next one.
    """

    # Transient rows, gone within seconds; database-level foreign keys would add two share locks
    # on the award's and the viral nominee's rows to every vote. Django still cascades deletes.
    award = models.ForeignKey(
        Award, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    nominee = models.ForeignKey(
        Nominee, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    amount = models.IntegerField()

    class Meta:
        indexes = [
            # standings_recompute drains one award's rows; the beat asks which awards have any.
            models.Index(fields=["award", "id"], name="tallydelta_award"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} for nominee {self.nominee_id}"


class Standing(models.Model):
    """A nominee's exact counted votes and ranks, as of the award's last recompute."""

    nominee = models.OneToOneField(
        Nominee, on_delete=models.CASCADE, primary_key=True, related_name="standing"
    )
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    votes = models.PositiveIntegerField(default=0)
    # Standard competition ranks (1, 2, 2, 4); None for inactive nominees.
    category_rank = models.PositiveIntegerField(null=True)
    overall_rank = models.PositiveIntegerField(null=True)
    # Position in display order (rank, then name), so pages paginate with one indexed query.
    overall_position = models.PositiveIntegerField(null=True)
    category_position = models.PositiveIntegerField(null=True)

    class Meta:
        indexes = [
            # The overall leaderboard and the award home's top 10.
            models.Index(fields=["award", "overall_position"], name="standing_overall"),
            # A category's leaderboard and its leaders on the award home.
            models.Index(fields=["category", "category_position"], name="standing_category"),
        ]

    def __str__(self) -> str:
        return f"#{self.overall_rank} {self.nominee_id}: {self.votes}"


class StandingsSnapshot(models.Model):
    """One row per award: when its standings were last recomputed. Recomputes lock it."""

    award = models.OneToOneField(
        Award, on_delete=models.CASCADE, primary_key=True, related_name="standings_snapshot"
    )
    computed_at = models.DateTimeField(null=True)
    total_votes = models.PositiveBigIntegerField(default=0)
    recomputes = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.award_id} at {self.computed_at}"


class AuditEntry(models.Model):
    """Who changed which votes' status, when, why, and how many: organizers' and Laurel's own."""

    class Action(models.TextChoices):
        QUARANTINE = "quarantine", "Quarantine"
        VOID = "void", "Void"
        RESTORE = "restore", "Restore"
        AUTO_QUARANTINE = "auto_quarantine", "Held automatically"
        # A nominee's new voters came in a burst: its cluster was held, organizers review it.
        BURST = "burst", "Burst flagged"
        # Organizers' bulk and destructive actions on the catalogue in the admin.
        HIDE_NOMINEES = "hide_nominees", "Hide nominees"
        SHOW_NOMINEES = "show_nominees", "Show nominees"
        REVOKE_STATS = "revoke_stats", "Revoke stats links"
        DELETE = "delete", "Delete"
        PUBLISH = "publish", "Publish results"
        REPUBLISH = "republish", "Re-publish results"
        REDUCE = "reduce", "Reduce voter data (retention)"
        # A judge's scores for a nominee, or their declared conflict of interest.
        SCORE = "score", "Jury score"
        CONFLICT = "conflict", "Conflict of interest declared"
        # Organizers add judges to an award's jury, or take them off it.
        INVITE_JUDGE = "invite_judge", "Judge invited"
        REMOVE_JUDGE = "remove_judge", "Judge removed"

    created_at = models.DateTimeField(auto_now_add=True)
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    # None when Laurel acted on its own (an automatic quarantine).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    reason = models.TextField(blank=True)
    # The votes whose status changed.
    count = models.PositiveIntegerField(default=0)
    # What was acted on: the cluster's dimensions (address, network, user agent, nominee, time
    # window) or the selected vote ids.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [
            # The integrity page lists one award's entries, newest first.
            models.Index(fields=["award", "-created_at"], name="audit_award_time"),
        ]

    def __str__(self) -> str:
        who = self.user or "Laurel"
        return f"{self.get_action_display()} {self.count} vote(s) by {who}"


class PublishedResult(models.Model):
    """A nominee's place in the published results: a frozen copy of the final standings.

    The public pages read these rows once the results are published, so a vote voided later
    changes nothing public until an organizer re-publishes (voting.standings.results.results_publish).
    """

    class Result(models.TextChoices):
        WINNER = "winner", "Winner"
        FINALIST = "finalist", "Finalist"
        NONE = "", "—"

    nominee = models.OneToOneField(
        Nominee, on_delete=models.CASCADE, primary_key=True, related_name="published_result"
    )
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    votes = models.PositiveIntegerField()
    # The same ranks and display positions as Standing, as they were when published; no rank
    # without votes (the positions still order those nominees after the ranked ones).
    category_rank = models.PositiveIntegerField(null=True, blank=True)
    overall_rank = models.PositiveIntegerField(null=True, blank=True)
    overall_position = models.PositiveIntegerField()
    category_position = models.PositiveIntegerField()
    # Organizers mark winners and finalists; the default is the top N of each category.
    result = models.CharField(max_length=10, choices=Result.choices, blank=True)
    # With a jury (voting/jury/blend.py), for the finalists it scored: the jury's mean score
    # and the blended score, each out of 100, and their ranks in the category; null otherwise.
    jury_score = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    jury_rank = models.PositiveIntegerField(null=True, blank=True)
    blended_score = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    blended_rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # The final overall standings and the overall winners, in display order.
            models.Index(fields=["award", "overall_position"], name="published_overall"),
            # A category's final standings.
            models.Index(fields=["category", "category_position"], name="published_category"),
        ]
        constraints = [
            # A field of zeros has no leader: a nominee nobody voted for is neither ranked nor
            # marked, whatever a page or an export does with the row.
            models.CheckConstraint(
                condition=models.Q(votes__gt=0)
                | models.Q(category_rank__isnull=True, overall_rank__isnull=True, result=""),
                name="published_unranked_without_votes",
            ),
            models.CheckConstraint(
                condition=models.Q(votes=0)
                | models.Q(category_rank__isnull=False, overall_rank__isnull=False),
                name="published_ranked_with_votes",
            ),
        ]

    def __str__(self) -> str:
        rank = f"#{self.category_rank}" if self.category_rank else "unranked"
        return f"{rank} {self.nominee_id}: {self.votes} {self.result}".strip()


class JuryScore(models.Model):
    """One judge's score for one finalist on one criterion; changed until the jury closes."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nominee = models.ForeignKey(Nominee, on_delete=models.CASCADE, related_name="jury_scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="scores")
    score = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["judge", "nominee", "criterion"], name="jury_score_once"
            ),
            # The criterion's scale is checked by the service; 1 to 10 is every scale's room.
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=10), name="jury_score_1_to_10"
            ),
        ]
        indexes = [models.Index(fields=["award", "nominee"], name="jury_score_award_nominee")]

    def __str__(self) -> str:
        return f"{self.score} for {self.nominee_id} on {self.criterion_id} by {self.judge_id}"


class JuryConflict(models.Model):
    """A judge's declared conflict of interest: they are excused from scoring this nominee, and
    any score they gave it is withdrawn."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nominee = models.ForeignKey(Nominee, on_delete=models.CASCADE, related_name="jury_conflicts")
    note = models.CharField(max_length=300, blank=True)
    declared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["judge", "nominee"], name="jury_conflict_once"),
        ]

    def __str__(self) -> str:
        return f"{self.judge_id} excused from {self.nominee_id}"


class IntegrityReport(models.Model):
    """The public account of how the count was kept clean, frozen with each publication of the
    results (voting/integrity/report.py): figures only, never thresholds or addresses."""

    award = models.OneToOneField(
        Award, on_delete=models.CASCADE, primary_key=True, related_name="integrity_report"
    )
    published_at = models.DateTimeField()
    figures = models.JSONField()

    def __str__(self) -> str:
        return f"Integrity report of {self.award_id} at {self.published_at}"
