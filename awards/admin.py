from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from voting.stats import stats_links_revoke, stats_path

from .models import Award, Category, Nominee


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    prepopulated_fields = {"slug": ("name",)}
    fields = ["name", "slug", "display_order", "description"]


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "voting_opens",
        "voting_closes",
        "time_zone",
        "integrity_review",
    ]
    search_fields = ["name", "slug"]
    readonly_fields = ["integrity_review"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CategoryInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "integrity_review"]}),
        ("Voting window", {"fields": ["time_zone", "voting_opens", "voting_closes"]}),
        (
            "Voting rule",
            {"fields": ["interval_kind", "vote_interval", "vote_scope", "ip_votes_per_hour"]},
        ),
        (
            "Integrity",
            {
                "description": "When a vote is held for review instead of counted, and how much "
                "work the browser check asks. Voters are never shown these numbers.",
                "classes": ["collapse"],
                "fields": [
                    "new_voters_per_address",
                    "new_voters_per_network",
                    "unverified_voters_per_address",
                    "min_seconds_on_page",
                    "burst_factor",
                    "burst_floor",
                    "unverified_share_percent",
                    "pow_base_difficulty",
                    "pow_max_difficulty",
                ],
            },
        ),
        (
            "Standings",
            {"fields": ["standings_visibility", "blackout_hours", "results_published_at"]},
        ),
    ]

    @admin.display(description="integrity review")
    def integrity_review(self, award: Award) -> str:
        # The page lives on the voting side (voting.admin_views); a URL name keeps it that way.
        if award.pk is None:
            return "Available once the award is saved."
        url = reverse("integrity-review", args=[award.pk])
        return format_html('<a href="{}">Integrity review</a>', url)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "award", "display_order"]
    list_filter = ["award"]
    list_select_related = ["award"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ("name",)}


class CategoryFilter(admin.SimpleListFilter):
    """Categories labelled with their award, fetched in one query."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = Category.objects.select_related("award").order_by(
            "award__name", "display_order"
        )
        return [(str(c.pk), f"{c.award.name} · {c.name}") for c in categories]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(category_id=self.value())
        return queryset


@admin.register(Nominee)
class NomineeAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "award", "twitter_handle", "audience_size", "is_active"]
    list_filter = ["award", CategoryFilter, "is_active"]
    list_select_related = ["category", "award"]
    list_per_page = 100
    list_max_show_all = 1000
    search_fields = ["name", "twitter_handle", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["award", "category"]
    actions = ["make_inactive", "make_active", "revoke_stats_links"]
    readonly_fields = ["stats_link"]
    fieldsets = [
        (None, {"fields": ["award", "category", "name", "slug", "headline", "bio", "photo"]}),
        ("Links", {"fields": ["website", "twitter_handle", "linkedin_url", "facebook_url"]}),
        ("Status", {"fields": ["audience_size", "is_active"]}),
        (
            "Private stats",
            {
                "description": "Send this link to the nominee: it shows their votes per day "
                "and per channel, to whoever has it. To cancel every link sent so far, use "
                "“Revoke stats links” in the nominee list.",
                "fields": ["stats_link"],
            },
        ),
    ]

    def get_object(self, request, object_id, from_field=None):
        nominee = super().get_object(request, object_id, from_field)
        if nominee is not None:
            # The admin is shared by every request; the absolute link, which needs this
            # request's host, travels on this request's own instance instead.
            nominee.stats_url = request.build_absolute_uri(stats_path(nominee))
        return nominee

    @admin.display(description="stats link")
    def stats_link(self, nominee: Nominee) -> str:
        url = getattr(nominee, "stats_url", None)
        if url is None:
            return "Available once the nominee is saved."
        return format_html(
            '<input type="text" readonly value="{}" size="60" class="vURLField" '
            'aria-label="Secret stats link" aria-describedby="stats-link-help"> '
            '<a href="{}" rel="noreferrer" target="_blank">Open</a>'
            '<div class="help" id="stats-link-help">Select the link and copy it.</div>',
            url,
            url,
        )

    @admin.action(description="Hide selected nominees (no more votes)")
    def make_inactive(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} nominees hidden.")

    @admin.action(description="Show selected nominees again")
    def make_active(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} nominees shown.")

    @admin.action(description="Revoke stats links")
    def revoke_stats_links(self, request, queryset):
        revoked = stats_links_revoke(nominees=queryset)
        self.message_user(
            request,
            f"Stats links revoked for {revoked} nominee{'s' if revoked != 1 else ''}: the links "
            "sent so far now open a “not found” page. Each nominee's new link is on their "
            "page here.",
        )
