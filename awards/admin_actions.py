"""Bulk and destructive admin actions: confirmed on a page of their own, then written to the
audit log (voting.models.AuditEntry), one entry per award touched."""

from collections.abc import Callable
from typing import Any

from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.template.response import TemplateResponse

from voting.models import AuditEntry

# Names listed on a confirmation page and kept in an audit entry; the count covers the rest.
NAMES_SHOWN = 50
REASON_FIELD = "reason"


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
    """One audit entry per award for an action on catalogue rows (nominees, categories)."""
    by_award: dict[int, list] = {}
    for obj in objects:
        by_award.setdefault(obj.award_id, []).append(obj)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            award_id=award_id,
            user=request.user,
            action=action,
            reason=reason,
            count=len(rows),
            detail={
                "model": rows[0]._meta.model_name,
                "ids": [row.pk for row in rows[:NAMES_SHOWN]],
                "names": [str(row) for row in rows[:NAMES_SHOWN]],
            },
        )
        for award_id, rows in by_award.items()
    )
