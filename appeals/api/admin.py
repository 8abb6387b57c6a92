"""Django admin of the API's clients (agencies.ApiClient) and their call log: here, in
appeals, because revoking a key and keeping its clerk role in step are appeals' services
(agencies never imports appeals)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agencies.models import ApiCallLog, ApiClient, ApiScope
from appeals.api.clients import revoke_api_client, sync_clerk_role


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("permissions"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    callback_url = forms.URLField(
        label=_("callback URL"), required=False, assume_scheme="https"
    )

    class Meta:
        model = ApiClient
        fields = ("name", "agency", "scopes", "callback_url")


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are issued by `manage.py create_api_client` (the key is printed once);
    here they are looked at, their scopes and callback URL edited, and revoked."""

    form = ApiClientForm
    list_display = (
        "name",
        "agency",
        "key_prefix",
        "scopes",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("agency",)
    search_fields = ("name", "key_prefix", "agency__code")
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "agency", "scopes", "callback_url", *readonly_fields)
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sync_clerk_role(client=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the call log keeps pointing at the client

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for client in queryset:
            revoke_api_client(client=client)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)s key revoked.", "%(count)s keys revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(ApiCallLog)
class ApiCallLogAdmin(admin.ModelAdmin):
    list_display = ("at", "client", "method", "path", "status", "duration_ms", "ip")
    list_filter = ("client", "method", "status")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
