"""Django admin of the consent texts and the processing policy (ky, ru, en).

A consent version is fixed once it has taken effect or an appeal accepted it
(appeals.privacy.consent.consent_is_fixed): its page is then for reading only and it
cannot be deleted; a change of wording is a new version from a moment that has not
passed, so what older appeals accepted never changes. The policy page's text stays
editable: no appeal refers to it, and the page always shows the policy in effect.
"""

import datetime as dt

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from appeals.models import ConsentVersion, ProcessingPolicy
from appeals.privacy.consent import consent_is_fixed

LANGUAGES = ("ky", "ru", "en")
# How far in the past a new version's start may lie: the minutes it took to type it.
BACKDATING_ALLOWED = dt.timedelta(minutes=15)
POLICY_FORMAT_HELP = _(
    "Plain text. An empty line starts a new paragraph; a line that starts with "
    "“# ” is a heading. The holder, the registry entry, the retention period and the "
    "citizen's rights are added to the page from the settings."
)


class TextInEveryLanguageForm(forms.ModelForm):
    """The translated text is required in ky, ru and en: a citizen reads it in the
    language of the page."""

    translated_field = ""

    def clean(self):
        data = super().clean()
        for code in LANGUAGES:
            name = f"{self.translated_field}_{code}"
            if name in self.fields and not (data.get(name) or "").strip():
                self.add_error(name, _("Give the text in every language."))
        return data


class ConsentVersionForm(TextInEveryLanguageForm):
    translated_field = "text"

    class Meta:
        model = ConsentVersion
        fields = ("effective_from", "text_ky", "text_ru", "text_en")

    def clean_effective_from(self):
        start = self.cleaned_data["effective_from"]
        if start < timezone.now() - BACKDATING_ALLOWED:
            raise forms.ValidationError(
                _(
                    "A version takes effect from now on: choose a moment that has not "
                    "passed. Appeals already filed keep the version they accepted."
                )
            )
        return start


class ProcessingPolicyForm(TextInEveryLanguageForm):
    translated_field = "body"

    class Meta:
        model = ProcessingPolicy
        fields = ("effective_from", "body_ky", "body_ru", "body_en")


@admin.register(ConsentVersion)
class ConsentVersionAdmin(TranslationAdmin):
    form = ConsentVersionForm
    list_display = ("effective_from", "short_text", "is_fixed")
    ordering = ("-effective_from",)

    @admin.display(description=_("text of the consent"))
    def short_text(self, obj: ConsentVersion) -> str:
        text = obj.text or ""
        return text if len(text) <= 120 else text[:119] + "…"

    @admin.display(description=_("fixed (accepted or in effect)"), boolean=True)
    def is_fixed(self, obj: ConsentVersion) -> bool:
        return consent_is_fixed(obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and consent_is_fixed(obj):
            return ("effective_from", *(f"text_{code}" for code in LANGUAGES))
        return ()

    def has_change_permission(self, request, obj=None):
        # A fixed version opens as a page to read, without a save button.
        if obj is not None and consent_is_fixed(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and consent_is_fixed(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ProcessingPolicy)
class ProcessingPolicyAdmin(TranslationAdmin):
    form = ProcessingPolicyForm
    list_display = ("effective_from", "updated_at")
    ordering = ("-effective_from",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name.startswith("body"):
            field.help_text = POLICY_FORMAT_HELP
        return field
