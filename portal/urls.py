"""URL map: a few language-neutral routes, everything else under /ky/, /ru/, /en/."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from appeals.views import privacy_policy

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("appeals.api.urls")),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", privacy_policy.privacy_policy, name="privacy"),
    path("agencies/", include("agencies.urls")),
    path("statistics/", include("reports.urls")),
    path("staff/", include("appeals.urls_staff")),
    path("embed/", include("appeals.urls_embed")),
    path("", include("appeals.urls")),
    path("admin/operations/", views.operations, name="operations"),
    path("admin/", admin.site.urls),
    prefix_default_language=True,
)

# The 500 page with the request id (Django's default renders it without context).
handler500 = "portal.views.server_error"
