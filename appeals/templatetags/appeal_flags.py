"""`{{ appeal.flags|flag_reasons }}`: an appeal's stored flags with their reasons in
the active language (appeals.intake.flags), for the clerks' and controllers' pages."""

from django import template

from appeals.intake import flags

register = template.Library()


@register.filter
def flag_reasons(stored) -> list[flags.ShownFlag]:
    return flags.described(stored)
