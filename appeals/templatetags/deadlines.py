"""`{{ appeal.due_on|working_days_left }}`: working days from today to the due date
(negative when missed), on the Kyrgyz working-day calendar."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import ngettext

from appeals import deadlines

register = template.Library()


@register.filter
def working_days_left(due_on: dt.date | None) -> str:
    if not due_on:
        return ""
    days = deadlines.working_days_between(timezone.localdate(), due_on)
    if days >= 0:
        return ngettext(
            "%(days)s working day left", "%(days)s working days left", days
        ) % {"days": days}
    return ngettext(
        "overdue by %(days)s working day", "overdue by %(days)s working days", -days
    ) % {"days": -days}
