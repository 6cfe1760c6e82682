from django.contrib import admin

from awards.admin_actions import action_confirmation, confirmed_reason
from awards.roles import MODERATOR, AwardScopedAdmin, OwnAwardsFilter
from voting.integrity.review import votes_set_status_audited
from voting.models import AuditEntry, Standing, StandingsSnapshot, Vote


def describe_vote(vote: Vote) -> str:
    when = f"{vote.created_at:%Y-%m-%d %H:%M:%S} UTC"
    status = vote.get_status_display().lower()
    return f"{vote.nominee.name}, {when}, from {vote.ip or 'no address'} ({status})"


class ChannelFilter(admin.AllValuesFieldListFilter):
    """The share channels votes came from; votes without one get a name, not an empty link."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice["display"] = "(none)"
            yield choice


@admin.register(Vote)
class VoteAdmin(AwardScopedAdmin, admin.ModelAdmin):
    view_role = change_role = MODERATOR
    list_display = ["created_at", "nominee", "category", "status", "ip", "ref", "voter_short"]
    list_filter = [
        "status",
        ("award", OwnAwardsFilter),
        ("category", OwnAwardsFilter),
        ("ref", ChannelFilter),
    ]
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

    def _move(self, request, queryset, status: str, verb: str, question: str, button: str):
        page = action_confirmation(
            self,
            request,
            queryset.select_related("nominee"),
            question=question,
            button=button,
            describe=describe_vote,
        )
        if page:
            return page
        changed = votes_set_status_audited(
            votes=queryset,
            status=status,
            user=request.user,
            reason=confirmed_reason(request, "Picked in the vote list"),
        )
        self.message_user(request, f"{changed} vote(s) {verb}. Standings follow within seconds.")
        return None

    @admin.action(description="Quarantine selected votes (stop counting them, under review)")
    def quarantine(self, request, queryset):
        question = "Hold these votes for review? They stop counting."
        return self._move(
            request, queryset, Vote.Status.QUARANTINED, "quarantined", question, "Yes, hold them"
        )

    @admin.action(description="Void selected votes (never count them)")
    def void(self, request, queryset):
        question = "Void these votes? They stop counting."
        return self._move(request, queryset, Vote.Status.VOID, "voided", question, "Yes, void them")

    @admin.action(description="Restore selected votes (count them again)")
    def restore(self, request, queryset):
        question = "Restore these votes? They count again."
        return self._move(
            request, queryset, Vote.Status.COUNTED, "restored", question, "Yes, restore them"
        )


@admin.register(StandingsSnapshot)
class StandingsSnapshotAdmin(AwardScopedAdmin, admin.ModelAdmin):
    list_display = ["award", "computed_at", "total_votes", "recomputes"]
    readonly_fields = ["award", "computed_at", "total_votes", "recomputes"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # Laurel's own bookkeeping: standings_recompute keeps it


@admin.register(Standing)
class StandingAdmin(AwardScopedAdmin, admin.ModelAdmin):
    list_display = ["nominee", "category", "votes", "category_rank", "overall_rank"]
    list_filter = [("award", OwnAwardsFilter), ("category", OwnAwardsFilter)]
    list_select_related = ["nominee", "category"]
    ordering = ["award", "overall_position"]
    search_fields = ["nominee__name"]
    readonly_fields = [f.name for f in Standing._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # computed from the votes: change the votes instead

    def has_delete_permission(self, request, obj=None):
        return False  # computed from the votes: void them instead


@admin.register(AuditEntry)
class AuditEntryAdmin(AwardScopedAdmin, admin.ModelAdmin):
    """The record of who changed which votes' status: read it, never write it."""

    view_role = MODERATOR
    list_display = ["created_at", "award", "who", "action", "count", "reason"]
    list_filter = [("award", OwnAwardsFilter), "action"]
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
