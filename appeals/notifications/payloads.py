"""What the API answers and the callbacks post about an appeal: one shape for both
(appeals.api.views reads it, appeals.notifications.callbacks posts it)."""

from appeals.models import Answer, Appeal


def appeal_data(appeal: Appeal) -> dict:
    return {
        "tracking_number": appeal.tracking_number,
        "registration_number": appeal.registration_number,
        "status": appeal.status,
        "status_label": str(appeal.get_status_display()),
        "outcome": appeal.outcome,
        "channel": appeal.channel,
        "kind": appeal.kind,
        "language": appeal.language,
        "received_at": appeal.received_at.isoformat(),
        "registered_at": (
            appeal.registered_at.isoformat() if appeal.registered_at else None
        ),
        "due_on": appeal.due_on.isoformat() if appeal.due_on else None,
        "closed_at": appeal.closed_at.isoformat() if appeal.closed_at else None,
        "lead_agency": appeal.lead_agency.code if appeal.lead_agency else None,
    }


def answer_data(appeal: Appeal) -> dict | None:
    answer = (
        appeal.answers.filter(state=Answer.State.APPROVED)
        .order_by("-approved_at", "-id")
        .first()
    )
    if answer is None:
        return None
    return {
        "outcome": answer.outcome,
        "text": answer.text,
        "approved_at": answer.approved_at.isoformat() if answer.approved_at else None,
    }


def additions_data(appeal: Appeal) -> list[dict]:
    """What the citizen added after filing, oldest first (the API's detail)."""
    return [
        {
            "added_at": addition.added_at.isoformat(),
            "text": addition.text,
            "files": [
                {"name": item.original_name, "size": item.size}
                for item in addition.attachments.all()
            ],
        }
        for addition in appeal.additions.prefetch_related("attachments")
    ]
