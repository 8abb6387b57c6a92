"""Django admin for superusers: appeals are read-only here (every change goes through
the services, which keep the history); the outbox can be inspected."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from appeals.api import admin as api_admin  # noqa: F401  (registers the API clients' pages)
from appeals.intake import admin as intake_admin  # noqa: F401  (the flag words)
from appeals.models import Appeal, Attachment, DeadlineRule, Event, Notification
from appeals.privacy import admin as privacy_admin  # noqa: F401  (consent and policy)
from appeals.suggestions import admin as suggestions_admin  # noqa: F401  (routing model)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = Event
    fields = ("at", "type", "actor", "data", "is_public")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("original_name", "purpose", "content_type", "size")
    readonly_fields = fields


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = (
        "tracking_number",
        "registration_number",
        "channel",
        "form",
        "status",
        "outcome",
        "received_on",
    )
    list_filter = ("status", "channel", "form", "outcome", "is_imported")
    search_fields = ("tracking_number", "registration_number")
    date_hierarchy = "received_on"
    inlines = [AttachmentInline, EventInline]
    show_full_result_count = False  # exact counts are slow on millions of rows

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "template",
        "recipient",
        "language",
        "state",
        "attempts",
        "created_at",
    )
    list_filter = ("state", "template", "language")
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    """Superusers keep the time limits of the law. A change of law is a new row with
    its start date; editing a row is for correcting a mistake in it."""

    list_display = ("code", "value_shown", "unit", "applies_from", "source")
    list_filter = ("code", "unit")
    ordering = ("code", "-applies_from")

    @admin.display(description=_("value"), ordering="value")
    def value_shown(self, obj: DeadlineRule) -> str:
        if not is_provisional(obj):
            return str(obj.value)
        return format_html(
            '{} <strong class="provisional">{}</strong>', obj.value, _("provisional")
        )

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# A rule is provisional while its source says so: the default forwarding and extension
# rows (appeals/0005_deadline_rules.py) read "(provisional value, to verify)" because
# the law's text was not at hand. Whoever checks the law corrects the row's value and
# source, and the mark goes with the word.
PROVISIONAL_MARK = "provisional"


def is_provisional(rule: DeadlineRule) -> bool:
    return PROVISIONAL_MARK in rule.source.lower()
