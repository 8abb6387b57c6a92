from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Appeals")

    def ready(self) -> None:
        # The working-day calendar caches the admin's calendar entries and listens for
        # their changes (cache invalidation only, no business rule); so does the flags'
        # word list.
        from appeals.deadlines import calendar  # noqa: F401
        from appeals.intake import flags  # noqa: F401
