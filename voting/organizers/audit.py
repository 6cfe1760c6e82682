"""The audit log's record of what organizers do to the catalogue (awards/admin_actions.py)."""

from django.dispatch import receiver

from awards.admin_actions import NAMES_SHOWN, catalogue_action
from voting.models import AuditEntry


@receiver(catalogue_action, dispatch_uid="voting.organizers.audit")
def catalogue_action_record(*, user, objects: list, action: str, reason: str, **kwargs) -> None:
    """One audit entry per award the action touched."""
    action = AuditEntry.Action(action)  # an action the log does not know is a bug, not a guess
    by_award: dict[int, list] = {}
    for obj in objects:
        by_award.setdefault(obj.award_id, []).append(obj)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            award_id=award_id,
            user=user,
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
