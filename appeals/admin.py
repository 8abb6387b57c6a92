"""Django admin for superusers: appeals are read-only here (every change goes through
the services, which keep the history); the outbox can be inspected."""

from django.contrib import admin

from appeals.api import admin as api_admin  # noqa: F401  (registers the API clients' pages)
from appeals.models import Appeal, Attachment, DeadlineRule, Event, Notification


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

    list_display = ("code", "value", "unit", "applies_from", "source")
    list_filter = ("code", "unit")
    ordering = ("code", "-applies_from")

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
