"""Archived reports in the admin: to look at, never to change."""

from django.contrib import admin

from .models import ArchivedReport


@admin.register(ArchivedReport)
class ArchivedReportAdmin(admin.ModelAdmin):
    list_display = ("period", "agency", "language", "format", "created_at")
    list_filter = ("format", "language", "period")
    search_fields = ("period", "agency__name", "agency__code")
    list_select_related = ("agency",)
    readonly_fields = [field.name for field in ArchivedReport._meta.fields]

    # The archive is what was published: the quarterly task writes it, nobody edits
    # or removes it here. Files are downloaded from the managers' page.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
