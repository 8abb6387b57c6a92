from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        # Registers the storage's deploy check (manage.py check --deploy).
        from . import filestore  # noqa: F401
