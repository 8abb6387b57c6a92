from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from .models import Agency, CalendarDay, Membership, Topic


@admin.register(Agency)
class AgencyAdmin(TranslationAdmin):
    list_display = ("code", "name", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "slug", "name_ky", "name_ru", "name_en")
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(Topic)
class TopicAdmin(TranslationAdmin):
    list_display = ("code", "name", "parent", "default_agency", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name_ky", "name_ru", "name_en")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "agency", "role")
    list_filter = ("role", "agency")
    search_fields = ("user__username", "agency__code")
    autocomplete_fields = ("user",)


@admin.register(CalendarDay)
class CalendarDayAdmin(TranslationAdmin):
    list_display = ("day", "kind", "reason")
    list_filter = ("kind",)
    search_fields = ("reason_ky", "reason_ru", "reason_en")
    date_hierarchy = "day"
