from django.contrib import admin
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from awards.admin_actions import (
    DELETE,
    HIDE_NOMINEES,
    REVOKE_STATS,
    SHOW_NOMINEES,
    action_confirmation,
    audit_catalogue,
    confirmed_reason,
)
from awards.forms import AwardForm, NomineeForm, known_zone, zoned
from awards.lookups import catalogue_changed
from awards.models import Award, AwardStaff, Category, Criterion, Nominee
from awards.roles import MODERATOR, ORGANIZER, AwardScopedAdmin, OwnAwardsFilter, awards_for
from awards.stats_links import stats_links_revoke, stats_path


class LabelledInlineFormSet(BaseInlineFormSet):
    """A table's inputs have a column heading but no label: each gets its own name, row
    included, so that a screen reader says which cell it is in."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = f" (row {index + 1})" if index is not None else ""
        for name, field in form.fields.items():
            # The admin wraps a relation's widget (the add and change links): name the select.
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs.setdefault("aria-label", f"{field.label or name}{row}")


class CategoryInline(admin.TabularInline):
    model = Category
    formset = LabelledInlineFormSet
    extra = 0
    prepopulated_fields = {"slug": ("name",)}
    fields = ["name", "slug", "display_order", "description"]


class CriterionInline(admin.TabularInline):
    """The jury's rubric: what judges score each finalist on, and how much each counts."""

    model = Criterion
    formset = LabelledInlineFormSet
    extra = 0
    fields = ["name", "weight", "scale", "display_order"]
    verbose_name_plural = "jury criteria"


class AwardStaffInline(admin.TabularInline):
    """Who works on the award, and as what; only superusers hand out roles."""

    model = AwardStaff
    formset = LabelledInlineFormSet
    extra = 0
    fields = ["user", "role", "categories"]
    verbose_name_plural = "staff (organizers, moderators and judges)"

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            award_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Category.objects.filter(award_id=award_id or 0)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CatalogueDeletion:
    """Deleting nominees or categories (only those without votes: votes protect them) leaves an
    audit entry per award."""

    def delete_model(self, request, obj):
        audit_catalogue(request=request, objects=[obj], action=DELETE)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        audit_catalogue(request=request, objects=list(queryset), action=DELETE)
        super().delete_queryset(request, queryset)


@admin.register(Award)
class AwardAdmin(AwardScopedAdmin, admin.ModelAdmin):
    award_field = "pk"
    # Moderators open the award for its integrity review link; only organizers change it.
    view_role = MODERATOR
    form = AwardForm
    list_display = [
        "name",
        "slug",
        "opens",
        "closes",
        "time_zone",
        "integrity_review",
    ]
    search_fields = ["name", "slug"]
    # Results are published, with their frozen copy, on the results page (voting.standings.results).
    readonly_fields = ["integrity_review", "results_published_at", "export_links"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CategoryInline, CriterionInline]
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
            "Standings and results",
            {
                "fields": [
                    "standings_visibility",
                    "blackout_hours",
                    "finalists_per_category",
                    "results_published_at",
                ]
            },
        ),
        (
            "Jury",
            {
                "description": "Judges (staff with the Judge role, below) score each category's "
                "finalists on the criteria below, from the close of voting until the jury "
                "closes; the results blend their scores with the public vote.",
                "fields": ["jury_weight_percent", "jury_closes"],
            },
        ),
        (
            "Official rules and privacy",
            {
                "description": "Shown on the award's public rules page, beside the voting rule "
                "and dates above. Plain text; a blank line starts a new paragraph.",
                "fields": ["rules_eligibility", "rules_ties", "rules_fraud", "retention_days"],
            },
        ),
        ("Exports", {"fields": ["export_links", "voter_data_in_exports"]}),
    ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The whole page in the award's zone: its fields, read-only times and "Now" shortcuts.
        award = self.get_object(request, object_id) if object_id else None
        zone = known_zone(request.POST.get("time_zone")) or (award.zone if award else None)
        with timezone.override(zone or timezone.get_current_timezone()):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
        return response

    @admin.display(description="voting opens", ordering="voting_opens")
    def opens(self, award: Award) -> str:
        return zoned(award, award.voting_opens)

    @admin.display(description="voting closes", ordering="voting_closes")
    def closes(self, award: Award) -> str:
        return zoned(award, award.voting_closes)

    @admin.display(description="download")
    def export_links(self, award: Award) -> str:
        if award.pk is None:
            return "Available once the award is saved."
        return format_html(
            '<a href="{}">Results (CSV)</a> · <a href="{}">Audit of every vote (CSV)</a> · '
            '<a href="{}">Nominee links for a mail merge (CSV)</a>',
            reverse("export-results", args=[award.pk]),
            reverse("export-votes", args=[award.pk]),
            reverse("export-nominee-links", args=[award.pk]),
        )

    @admin.display(description="organizer pages")
    def integrity_review(self, award: Award) -> str:
        # The pages live on the voting side (voting.admin_*); URL names keep it that way.
        if award.pk is None:
            return "Available once the award is saved."
        return format_html(
            '<a href="{}">Dashboard</a> · <a href="{}">Results</a> · '
            '<a href="{}">Integrity review</a>',
            reverse("award-dashboard", args=[award.pk]),
            reverse("results-review", args=[award.pk]),
            reverse("integrity-review", args=[award.pk]),
        )

    def get_inlines(self, request, obj):
        if request.user.is_superuser:
            return [*self.inlines, AwardStaffInline]
        return self.inlines

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # Whoever creates an award organizes it; otherwise it would vanish from their list.
            AwardStaff.objects.create(award=obj, user=request.user, role=ORGANIZER)

    def save_formset(self, request, form, formset, change):
        # Categories deleted from the award's page are logged like any other deletion.
        doomed = [f.instance for f in formset.deleted_forms if f.instance.pk is not None]
        if formset.model is Category and doomed:
            audit_catalogue(request=request, objects=doomed, action=DELETE)
        super().save_formset(request, form, formset, change)


@admin.register(Category)
class CategoryAdmin(AwardScopedAdmin, CatalogueDeletion, admin.ModelAdmin):
    list_display = ["name", "award", "display_order"]
    list_filter = [("award", OwnAwardsFilter)]
    list_select_related = ["award"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ("name",)}


class CategoryFilter(admin.SimpleListFilter):
    """Categories labelled with their award, fetched in one query."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = (
            Category.objects.filter(award__in=awards_for(request.user, role=ORGANIZER))
            .select_related("award")
            .order_by("award__name", "display_order")
        )
        return [(str(c.pk), f"{c.award.name} · {c.name}") for c in categories]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(category_id=self.value())
        return queryset


# Hiding or showing nominees (NomineeAdmin._set_active): the question, its button, what the
# audit log records, the message's verb and the default reason, by the state they are set to.
NOMINEE_VISIBILITY_WORDS = {
    True: (
        "Show these nominees again? Their pages take votes again.",
        "Yes, show them",
        SHOW_NOMINEES,
        "shown",
        "Shown in the nominee list",
    ),
    False: (
        "Hide these nominees? Their pages stop taking votes.",
        "Yes, hide them",
        HIDE_NOMINEES,
        "hidden",
        "Hidden in the nominee list",
    ),
}


@admin.register(Nominee)
class NomineeAdmin(AwardScopedAdmin, CatalogueDeletion, admin.ModelAdmin):
    # The list with django-import-export's Import button; the import pages are below (get_urls).
    change_list_template = "admin/import_export/change_list_import.html"
    list_display = ["name", "category", "award", "twitter_handle", "audience_size", "is_active"]
    list_filter = [("award", OwnAwardsFilter), CategoryFilter, "is_active"]
    list_select_related = ["category", "award"]
    list_per_page = 100
    list_max_show_all = 1000
    search_fields = ["name", "twitter_handle", "slug"]
    # The slug is made from the name on the server (NomineeForm), in every script.
    form = NomineeForm
    # Plain selects, not autocomplete boxes: the choices are one's own awards and categories,
    # and a select has a name a screen reader can announce.
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

    def get_urls(self):
        # The URLs django-import-export's ImportMixin adds, served by admin_import.py's admin.
        view = self.admin_site.admin_view
        return [
            path(
                "process_import/",
                view(self.process_import),
                name="awards_nominee_process_import",
            ),
            path("import/", view(self.import_action), name="awards_nominee_import"),
            *super().get_urls(),
        ]

    def import_action(self, request, **kwargs):
        return self.importer.import_action(request, **kwargs)

    def process_import(self, request, **kwargs):
        return self.importer.process_import(request, **kwargs)

    @cached_property
    def importer(self):
        # Kept out of web workers' memory until used: django-import-export brings tablib,
        # openpyxl and Pillow.
        from awards.admin_import import NomineeImportAdmin

        return NomineeImportAdmin(self.model, self.admin_site)

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "photo":
            # The admin draws a file input in a fieldset whose legend does not name the input.
            field.widget.attrs["aria-label"] = "Photo"
        return field

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
        return self._set_active(request, queryset, active=False)

    @admin.action(description="Show selected nominees again")
    def make_active(self, request, queryset):
        return self._set_active(request, queryset, active=True)

    def _set_active(self, request, queryset, *, active: bool):
        """Confirmed, then audited, then done: hiding stops a nominee's votes at once."""
        question, button, action, done, default = NOMINEE_VISIBILITY_WORDS[active]
        if page := action_confirmation(self, request, queryset, question=question, button=button):
            return page
        audit_catalogue(
            request=request,
            objects=list(queryset),
            action=action,
            reason=confirmed_reason(request, default),
        )
        changed = queryset.update(is_active=active)
        transaction.on_commit(catalogue_changed)  # update() sends no post_save to do it
        self.message_user(request, f"{changed} nominees {done}.")
        return None

    @admin.action(description="Revoke stats links")
    def revoke_stats_links(self, request, queryset):
        question = "Revoke these nominees' stats links? Every link sent so far stops working."
        if page := action_confirmation(
            self, request, queryset, question=question, button="Yes, revoke them"
        ):
            return page
        audit_catalogue(
            request=request,
            objects=list(queryset),
            action=REVOKE_STATS,
            reason=confirmed_reason(request, "Revoked in the nominee list"),
        )
        revoked = stats_links_revoke(nominees=queryset)
        self.message_user(
            request,
            f"Stats links revoked for {revoked} nominee{'s' if revoked != 1 else ''}: the links "
            "sent so far now open a “not found” page. Each nominee's new link is on their "
            "page here.",
        )
