"""The admin's pages of the routing model: each kept version with its figures, the one
in use, a rollback; the suggestions kept with controllers' choices (read-only)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from appeals.models import RoutingModel, RoutingSuggestion
from appeals.suggestions import model


def _figure(version: RoutingModel, which: str, key: str) -> str:
    figures = (version.figures or {}).get(which) or {}
    value = figures.get(key)
    return "—" if value is None else f"{value:.3f}"


@admin.register(RoutingModel)
class RoutingModelAdmin(admin.ModelAdmin):
    list_display = (
        "trained_at",
        "is_current",
        "trained_on",
        "agency_top1",
        "agency_top3",
        "held_out",
        "topic_top1",
        "size",
    )
    readonly_fields = (
        "file_name",
        "trained_at",
        "trained_on",
        "figures",
        "is_current",
    )
    fields = readonly_fields
    actions = ("use_version", "roll_back")

    def has_add_permission(self, request) -> bool:
        return False  # versions come from training (routing_model train, weekly)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("top 1, agency"))
    def agency_top1(self, version: RoutingModel) -> str:
        return _figure(version, "agency", "top1")

    @admin.display(description=_("top 3, agency"))
    def agency_top3(self, version: RoutingModel) -> str:
        return _figure(version, "agency", "top3")

    @admin.display(description=_("appeals held out"))
    def held_out(self, version: RoutingModel) -> int | None:
        return ((version.figures or {}).get("agency") or {}).get("n")

    @admin.display(description=_("top 1, topic"))
    def topic_top1(self, version: RoutingModel) -> str:
        return _figure(version, "topic", "top1")

    @admin.display(description=_("file size, bytes"))
    def size(self, version: RoutingModel) -> int | None:
        return (version.figures or {}).get("bytes")

    @admin.action(description=_("Use the selected version"))
    def use_version(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(
                request, _("Select exactly one version."), level=messages.ERROR
            )
            return
        version = model.make_current(queryset.get().pk)
        self.message_user(
            request,
            _("The routing model trained at %(at)s is in use.")
            % {"at": f"{version.trained_at:%Y-%m-%d %H:%M}"},
        )

    @admin.action(description=_("Go back to the version before the current one"))
    def roll_back(self, request, queryset) -> None:
        try:
            version = model.rollback()
        except model.TrainingError as error:
            self.message_user(request, str(error), level=messages.ERROR)
            return
        self.message_user(
            request,
            _("The routing model trained at %(at)s is in use again.")
            % {"at": f"{version.trained_at:%Y-%m-%d %H:%M}"},
        )


@admin.register(RoutingSuggestion)
class RoutingSuggestionAdmin(admin.ModelAdmin):
    list_display = ("appeal", "at", "chosen_agency", "probability", "automatic")
    list_filter = ("automatic",)
    list_select_related = ("appeal", "chosen_agency")
    raw_id_fields = ("appeal",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
