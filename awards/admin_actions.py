"""Bulk and destructive admin actions: confirmed on a page of their own, then announced to the
audit log.

The log (voting.models.AuditEntry) is voting's, beside every change to a vote's status; the
catalogue only announces what an organizer did, through `catalogue_action`, so that it never
imports voting. Voting records each announcement as one entry per award touched
(voting/organizers/audit.py); the signal is sent inside the admin's transaction, so an action
and its entry are saved together or not at all.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.dispatch import Signal
from django.template.response import TemplateResponse

# Names listed on a confirmation page and kept in an audit entry; the count covers the rest.
NAMES_SHOWN = 50
REASON_FIELD = "reason"
# What catalogue_action announces, as the audit log's actions name them.
DELETE = "delete"
HIDE_NOMINEES = "hide_nominees"
SHOW_NOMINEES = "show_nominees"
REVOKE_STATS = "revoke_stats"
# Sent with user, objects (catalogue rows with an award_id), action (one of the above), reason.
catalogue_action = Signal()


def action_confirmation(
    modeladmin,
    request,
    queryset: QuerySet,
    *,
    question: str,
    button: str,
    reason: bool = True,
    describe: Callable[[Any], str] = str,
) -> TemplateResponse | None:
    """The confirmation page of an admin action, or None once the user confirmed it there.

    The page posts the same selection back (the ids, or "all N matching" with the list's
    filters in the URL) with post=yes, as Django's own delete_selected does.
    """
    if request.POST.get("post") == "yes":
        return None
    opts = modeladmin.model._meta
    count = queryset.count()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Are you sure?",
        "question": question,
        "button": button,
        "ask_reason": reason,
        "reason_field": REASON_FIELD,
        "count": count,
        "objects": [describe(obj) for obj in queryset[:NAMES_SHOWN]],
        "more": max(count - NAMES_SHOWN, 0),
        "opts": opts,
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across") == "1",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "admin/laurel/action_confirmation.html", context)


def confirmed_reason(request, default: str) -> str:
    return request.POST.get(REASON_FIELD, "").replace("\x00", "").strip()[:1000] or default


def audit_catalogue(*, request, objects, action: str, reason: str = "") -> None:
    """Announce an action on catalogue rows (nominees, categories) to the audit log."""
    catalogue_action.send(
        sender=None, user=request.user, objects=list(objects), action=action, reason=reason
    )
