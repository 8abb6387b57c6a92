"""Translated fields of agencies and topics (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from .models import Agency, CalendarDay, Topic


@register(Agency)
class AgencyTranslationOptions(TranslationOptions):
    fields = ("name", "short_name", "address")


@register(Topic)
class TopicTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(CalendarDay)
class CalendarDayTranslationOptions(TranslationOptions):
    fields = ("reason",)
