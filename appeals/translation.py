"""Translated fields of the appeals app's own texts (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from .models import ConsentVersion, ProcessingPolicy


@register(ConsentVersion)
class ConsentVersionTranslationOptions(TranslationOptions):
    fields = ("text",)


@register(ProcessingPolicy)
class ProcessingPolicyTranslationOptions(TranslationOptions):
    fields = ("body",)
