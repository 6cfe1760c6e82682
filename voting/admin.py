from django.contrib import admin

from .models import AuditEntry, Standing, StandingsSnapshot, Vote
from .review import votes_set_status_audited


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["created_at", "nominee", "category", "status", "ip", "ref", "voter_short"]
    list_filter = ["status", "award", "category", "ref"]
    list_select_related = ["nominee", "category"]
    search_fields = ["ip", "voter_key", "nominee__name"]
    date_hierarchy = "created_at"
    list_per_page = 200
    show_full_result_count = False  # counting millions of votes on every page load is slow
    actions = ["quarantine", "void", "restore"]
    readonly_fields = [f.name for f in Vote._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # votes are evidence: void them instead

    @admin.display(description="voter")
    def voter_short(self, vote: Vote) -> str:
        return vote.voter_key[:8]

    def _move(self, request, queryset, status: str, verb: str) -> None:
        changed = votes_set_status_audited(
            votes=queryset, status=status, user=request.user, reason="Picked in the vote list"
        )
        self.message_user(request, f"{changed} vote(s) {verb}. Standings follow within seconds.")

    @admin.action(description="Quarantine selected votes (stop counting them, under review)")
    def quarantine(self, request, queryset):
        self._move(request, queryset, Vote.Status.QUARANTINED, "quarantined")

    @admin.action(description="Void selected votes (never count them)")
    def void(self, request, queryset):
        self._move(request, queryset, Vote.Status.VOID, "voided")

    @admin.action(description="Restore selected votes (count them again)")
    def restore(self, request, queryset):
        self._move(request, queryset, Vote.Status.COUNTED, "restored")


@admin.register(StandingsSnapshot)
class StandingsSnapshotAdmin(admin.ModelAdmin):
    list_display = ["award", "computed_at", "total_votes", "recomputes"]
    readonly_fields = ["award", "computed_at", "total_votes", "recomputes"]

    def has_add_permission(self, request):
        return False


@admin.register(Standing)
class StandingAdmin(admin.ModelAdmin):
    list_display = ["nominee", "category", "votes", "category_rank", "overall_rank"]
    list_filter = ["award", "category"]
    list_select_related = ["nominee", "category"]
    ordering = ["award", "overall_position"]
    search_fields = ["nominee__name"]
    readonly_fields = [f.name for f in Standing._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The record of who changed which votes' status: read it, never write it."""

    list_display = ["created_at", "award", "who", "action", "count", "reason"]
    list_filter = ["award", "action"]
    list_select_related = ["award", "user"]
    search_fields = ["reason"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="who", ordering="user")
    def who(self, entry: AuditEntry) -> str:
        if entry.user is not None:
            return entry.user.get_username()
        return "Laurel" if entry.action == AuditEntry.Action.AUTO_QUARANTINE else "A deleted user"
