import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

# Words that the URL scheme gives a meaning of its own, so no award or nominee may take them.
# The admin's own path (ADMIN_URL) is one of them wherever it is moved.
RESERVED_AWARD_SLUGS = frozenset(
    {"admin", "static", "media", "api", "healthz", "favicon.ico", settings.ADMIN_URL.split("/")[0]}
)
RESERVED_NOMINEE_SLUGS = frozenset(
    {"categories", "standings", "api", "vote", "badge", "rules", "privacy", "integrity"}
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not a known time zone; use a name such as America/Los_Angeles.",
            code="unknown_time_zone",
            params={"value": value},
        )


def validate_award_slug(value: str) -> None:
    if value in RESERVED_AWARD_SLUGS:
        raise ValidationError("“%(value)s” is reserved.", code="reserved", params={"value": value})


def validate_nominee_slug(value: str) -> None:
    if value in RESERVED_NOMINEE_SLUGS:
        raise ValidationError("“%(value)s” is reserved.", code="reserved", params={"value": value})


handle_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]{1,50}$",
    "Enter the handle without the @, using letters, digits, dots, dashes or underscores.",
    code="invalid_handle",
)


class AwardQuerySet(models.QuerySet):
    def open_at(self, moment: datetime) -> "AwardQuerySet":
        return self.filter(voting_opens__lte=moment, voting_closes__gt=moment)


class Award(models.Model):
    class IntervalKind(models.TextChoices):
        ROLLING = "rolling", "Rolling: again once the interval has passed since the last vote"
        CALENDAR_DAY = "calendar_day", "Once per calendar day in the award's time zone"

    class Scope(models.TextChoices):
        NOMINEE = "nominee", "Per nominee: one vote for each nominee per interval"
        CATEGORY = "category", "Per category: one vote in each category per interval"
        AWARD = "award", "Per award: one vote in the whole award per interval"

    class Visibility(models.TextChoices):
        COUNTS = "counts", "Show vote counts and ranks"
        RANKS = "ranks", "Show ranks only"
        HIDDEN = "hidden", "Hidden until results are published"

    class VoterDataInExports(models.TextChoices):
        HASHED = "hashed", "Hashed: the same voter or address gets the same code, never the value"
        TRUNCATED = "truncated", "Truncated: the key's first 8 characters, the address's network"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, validators=[validate_award_slug])
    description = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="America/Los_Angeles",
        validators=[validate_time_zone],
        help_text="Dates on the public pages are shown in this zone.",
    )
    voting_opens = models.DateTimeField()
    voting_closes = models.DateTimeField()
    vote_interval = models.DurationField(
        default=timedelta(hours=24),
        help_text="With a rolling interval: how long a voter waits between votes (HH:MM:SS).",
    )
    interval_kind = models.CharField(
        max_length=20, choices=IntervalKind.choices, default=IntervalKind.ROLLING
    )
    vote_scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.NOMINEE)
    ip_votes_per_hour = models.PositiveIntegerField(
        default=600,
        help_text="Votes one IP address (or IPv6 /64) may cast per hour. Keep it generous: "
        "offices and mobile carriers put many honest voters behind one address.",
    )
    # Integrity: when a vote is held for review instead of counted (voting/integrity/assess.py). The
    # defaults let an office or a phone carrier's shared address vote; a script on one
    # address, one network or many proxies trips them. Voters are never told the numbers.
    new_voters_per_address = models.PositiveSmallIntegerField(
        default=12,
        help_text="New voters from one address (IPv4, or IPv6 /64) for one nominee within an "
        "hour before further new voters' votes from there are held for review.",
    )
    new_voters_per_network = models.PositiveSmallIntegerField(
        default=40,
        help_text="The same for a network: IPv4 /24, IPv6 /56 or /48.",
    )
    unverified_voters_per_address = models.PositiveSmallIntegerField(
        default=3,
        help_text="New voters without the browser check (JavaScript off) from one address for "
        "one nominee within an hour before their votes are held.",
    )
    min_seconds_on_page = models.PositiveSmallIntegerField(
        default=2,
        help_text="A new voter who votes sooner than this after the page loaded is held: "
        "faster than a person reads and clicks.",
    )
    burst_factor = models.PositiveSmallIntegerField(
        default=12,
        help_text="A nominee's new voters in 10 minutes above this many times its usual pace "
        "(and above the burst floor) are held for review.",
    )
    burst_floor = models.PositiveIntegerField(
        default=60,
        help_text="New voters in 10 minutes that any nominee may get before a burst is considered.",
    )
    unverified_share_percent = models.PositiveSmallIntegerField(
        default=30,
        help_text="Share of a nominee's new voters in an hour who skip the browser check above "
        "which further such votes are held (once there are more than 10).",
    )
    pow_base_difficulty = models.PositiveIntegerField(
        default=5_000,
        help_text="Browser check work for a quiet address (hashes on average; 5,000 takes a "
        "phone a fraction of a second).",
    )
    pow_max_difficulty = models.PositiveIntegerField(
        default=200_000,
        help_text="The most work asked of a browser on a busy address, network or nominee "
        "(200,000 takes a phone a few seconds).",
    )
    standings_visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.COUNTS
    )
    blackout_hours = models.PositiveSmallIntegerField(
        default=0,
        help_text="Hide standings for this many hours before voting closes, until results "
        "are published. 0 means no blackout.",
    )
    finalists_per_category = models.PositiveSmallIntegerField(
        default=5,
        help_text="Once results are published, the top this many of each category are "
        "finalists and the first is the winner (ties share the place).",
    )
    # The jury (voting/jury/): judges score each category's finalists on the award's criteria
    # between the close of voting and jury_closes; the results blend the two.
    jury_weight_percent = models.PositiveSmallIntegerField(
        "jury's weight (%)",
        default=0,
        help_text="How much the jury's scores count in the results, against the public vote "
        "(e.g. 60 for public 40% and jury 60%). 0: the public vote decides alone.",
    )
    jury_closes = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Judges score the finalists from the close of voting until this time; "
        "required with a jury.",
    )
    results_published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When set and past, the final standings (counts and ranks) are public.",
    )
    # Set only by voting.standings.results.results_publish, with the frozen copy of the final standings
    # that the public pages read from then on; None for results published before that copy.
    results_frozen_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The official rules page (/<award>/rules/) shows these beside what Laurel knows itself: the
    # vote rule, the dates, the finalists. Plain text: blank lines make paragraphs.
    rules_eligibility = models.TextField(
        "eligibility",
        blank=True,
        help_text="Who may be nominated and who may vote.",
    )
    rules_ties = models.TextField(
        "ties",
        blank=True,
        default="Nominees with the same number of counted votes share the place; when that "
        "place is a winner's, they are joint winners.",
        help_text="How ties are handled.",
    )
    rules_fraud = models.TextField(
        "suspected fraud",
        blank=True,
        default="Votes that look automated or repeated are held for review and do not count "
        "unless the organizers restore them. Votes the organizers find fraudulent are void. "
        "Every such decision is logged with who made it and why.",
        help_text="How suspected fraud is handled.",
    )
    retention_days = models.PositiveSmallIntegerField(
        default=90,
        help_text="Days after voting closes, published or not, that voters' addresses and "
        "browser names are kept in full; then each address is reduced to its network and a "
        "keyed hash, each browser name to its family, and each address in the audit log to its "
        "network. Counts and exports stay intact.",
    )
    voter_data_in_exports = models.CharField(
        max_length=10,
        choices=VoterDataInExports.choices,
        default=VoterDataInExports.HASHED,
        help_text="How the audit export of votes shows each voter's key and address.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AwardQuerySet.as_manager()

    class Meta:
        ordering = ["-voting_closes"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(voting_closes__gt=models.F("voting_opens")),
                name="award_closes_after_opens",
                violation_error_message="Voting must close after it opens.",
            ),
            models.CheckConstraint(
                condition=models.Q(vote_interval__gte=timedelta(minutes=1)),
                name="award_vote_interval_at_least_a_minute",
                violation_error_message="The voting interval must be at least a minute.",
            ),
            models.CheckConstraint(
                condition=models.Q(pow_max_difficulty__gte=models.F("pow_base_difficulty")),
                name="award_pow_max_at_least_base",
                violation_error_message="The most browser-check work must be at least the base.",
            ),
            models.CheckConstraint(
                condition=models.Q(jury_weight_percent__lte=100),
                name="award_jury_weight_a_percentage",
                violation_error_message="The jury's weight is a percentage, 0 to 100.",
            ),
            models.CheckConstraint(
                # IS NOT NULL too: a CHECK lets a comparison with NULL pass.
                condition=models.Q(jury_weight_percent=0)
                | models.Q(jury_closes__isnull=False, jury_closes__gt=models.F("voting_closes")),
                name="award_jury_closes_after_voting",
                violation_error_message="With a jury, set when its round closes, after voting "
                "closes.",
            ),
            models.CheckConstraint(
                condition=models.Q(ip_votes_per_hour__gte=1),
                name="award_ip_cap_positive",
                violation_error_message="The per-IP cap must allow at least one vote an hour.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("award", kwargs={"award_slug": self.slug})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def is_open(self, moment: datetime) -> bool:
        return self.voting_opens <= moment < self.voting_closes

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.zone)

    @property
    def has_jury(self) -> bool:
        return self.jury_weight_percent > 0

    @property
    def public_weight_percent(self) -> int:
        return 100 - self.jury_weight_percent

    @property
    def results_formula(self) -> str:
        """How the results are decided, in a sentence, as the rules and the published results
        state it; voting/jury/blend.py computes exactly this."""
        if not self.has_jury:
            return "The public vote decides alone: the most counted votes wins."
        splits = "Equal results are split by the jury's score"
        splits += ", then by the counted votes" if self.public_weight_percent else ""
        return (
            f"Each finalist's result is {self.public_weight_percent}% their share of the public "
            "vote (their counted votes as a share of the category leader's) and "
            f"{self.jury_weight_percent}% the jury's score (the mean of the judges' weighted "
            "criteria scores, as a share of the top score; a judge who declared a conflict of "
            f"interest does not score that finalist). {splits}; finalists still equal share "
            "the place."
        )

    def jury_open(self, moment: datetime) -> bool:
        """Whether judges may score now: from the close of voting until the jury's close."""
        return self.has_jury and self.voting_closes <= moment < self.jury_closes


class Category(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80)
    display_order = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["award", "display_order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            # Category URLs are /<award>/categories/<slug>/.
            models.UniqueConstraint(fields=["award", "slug"], name="category_slug_unique_in_award"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "category", kwargs={"award_slug": self.award.slug, "category_slug": self.slug}
        )


class NomineeQuerySet(models.QuerySet):
    def active(self) -> "NomineeQuerySet":
        return self.filter(is_active=True)

    def search(self, text: str) -> "NomineeQuerySet":
        text = text.strip()
        if not text:
            return self
        return self.filter(
            models.Q(name__icontains=text)
            | models.Q(twitter_handle__icontains=text.lstrip("@"))
            | models.Q(headline__icontains=text)
        )


class Nominee(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="nominees")
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="nominees",
        help_text="The nominee's main category in this award.",
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=80,
        validators=[validate_nominee_slug],
        help_text="Part of the share link, /award-slug/nominee-slug/. Changing it breaks "
        "shared links.",
    )
    headline = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="nominees/", blank=True)
    website = models.URLField(blank=True)
    twitter_handle = models.CharField(max_length=50, blank=True, validators=[handle_validator])
    linkedin_url = models.URLField(blank=True)
    facebook_url = models.URLField(blank=True)
    audience_size = models.PositiveIntegerField(
        default=0, help_text="Followers or readers, as the nominee reports them."
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive nominees are hidden and cannot receive votes."
    )
    # Signed into the nominee's private stats link (voting/sharing/stats.py); bumping it revokes every
    # link sent so far.
    stats_key_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NomineeQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # Share links are /<award>/<slug>/.
            models.UniqueConstraint(fields=["award", "slug"], name="nominee_slug_unique_in_award"),
        ]
        indexes = [
            # Category pages list a category's active nominees by name.
            models.Index(fields=["category", "is_active", "name"], name="nominee_category_name"),
            # Admin search and duplicate checks on handles.
            models.Index(Lower("twitter_handle"), name="nominee_handle_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("nominee", kwargs={"award_slug": self.award.slug, "nominee_slug": self.slug})

    def clean(self) -> None:
        if self.category_id and self.award_id and self.category.award_id != self.award_id:
            raise ValidationError(
                {"category": "Choose a category of this nominee's award."},
                code="category_of_other_award",
            )

    @property
    def initials(self) -> str:
        words = [word for word in self.name.split() if word[:1].isalnum()]
        return "".join(word[0] for word in words[:2]).upper() or "?"


class Criterion(models.Model):
    """One line of the jury's rubric: judges score each finalist 1 to `scale` on it, and a
    judge's score for a nominee is the weighted mean of their criteria, as a share of the scale."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=120)
    weight = models.PositiveSmallIntegerField(
        default=1, help_text="How much this criterion counts against the others."
    )
    scale = models.PositiveSmallIntegerField(
        default=10, help_text="Scores run from 1 to this (at most 10)."
    )
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["award", "display_order", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(fields=["award", "name"], name="criterion_name_unique"),
            models.CheckConstraint(
                condition=models.Q(weight__gte=1, weight__lte=100),
                name="criterion_weight_1_to_100",
                violation_error_message="A criterion's weight is 1 to 100.",
            ),
            models.CheckConstraint(
                condition=models.Q(scale__gte=2, scale__lte=10),
                name="criterion_scale_2_to_10",
                violation_error_message="A criterion's scale is 2 to 10.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (weight {self.weight}, 1 to {self.scale})"


class AwardStaff(models.Model):
    """A staff account's role on one award. Superusers need none: they run every award."""

    class Role(models.TextChoices):
        # Everything on the award: its settings, categories, nominees, votes and results.
        ORGANIZER = "organizer", "Organizer"
        # The integrity review only: read votes, hold, void or restore them.
        MODERATOR = "moderator", "Moderator"
        # The jury: scores the finalists of its categories (voting/jury/), nothing else.
        JUDGE = "judge", "Judge"

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="award_roles"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ORGANIZER)
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="+",
        help_text="A judge's categories; none: every category of the award.",
    )

    class Meta:
        verbose_name = "award staff member"
        constraints = [
            # One role per person and award; the admin filters by (user, role) on every page.
            models.UniqueConstraint(fields=["user", "award"], name="award_staff_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} of {self.award}"
