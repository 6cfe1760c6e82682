from django.contrib import admin

from .models import Award, Category, Nominee


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    prepopulated_fields = {"slug": ("name",)}
    fields = ["name", "slug", "display_order", "description"]


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "voting_opens", "voting_closes", "time_zone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CategoryInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description"]}),
        ("Voting window", {"fields": ["time_zone", "voting_opens", "voting_closes"]}),
        (
            "Voting rule",
            {"fields": ["interval_kind", "vote_interval", "vote_scope", "ip_votes_per_hour"]},
        ),
        (
            "Standings",
            {"fields": ["standings_visibility", "blackout_hours", "results_published_at"]},
        ),
    ]


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
    actions = ["make_inactive", "make_active"]
    fieldsets = [
        (None, {"fields": ["award", "category", "name", "slug", "headline", "bio", "photo"]}),
        ("Links", {"fields": ["website", "twitter_handle", "linkedin_url", "facebook_url"]}),
        ("Status", {"fields": ["audience_size", "is_active"]}),
    ]

    @admin.action(description="Hide selected nominees (no more votes)")
    def make_inactive(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} nominees hidden.")

    @admin.action(description="Show selected nominees again")
    def make_active(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} nominees shown.")
