"""`{{ appeal.due_on|working_days_left }}`: working days from today to the due date
(negative when missed), on the Kyrgyz working-day calendar; `{% time_limit "review" as
review %}`: the time limit a page promises, from the rule in force."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import ngettext

from appeals.deadlines import calendar as deadlines

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


@register.simple_tag
def time_limit(code: str, since: dt.datetime | None = None):
    """The DeadlineRule of `code` in force for a period that starts at `since` (today
    when None), so that "within 14 working days" on a page is the rule's value and
    unit, never a number in the text. None when the table has no such rule: the page
    then leaves its promise out rather than state a wrong one."""
    on = deadlines.counting_start(since) if since else timezone.localdate()
    try:
        return deadlines.rule_for(code, on)
    except deadlines.NoDeadlineRule:
        return None
