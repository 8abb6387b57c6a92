"""The admin's page for the flags' word list (appeals.intake.flags): the only place
it is shown or edited."""

from django.contrib import admin

from appeals.models import FlagWord


@admin.register(FlagWord)
class FlagWordAdmin(admin.ModelAdmin):
    list_display = ("stem", "language", "is_active")
    list_filter = ("language", "is_active")
    list_editable = ("is_active",)
    search_fields = ("stem",)
    ordering = ("language", "stem")
