"""URL map: a few language-neutral routes, everything else under /ky/, /ru/, /en/."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("appeals.api.urls")),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("agencies/", include("agencies.urls")),
    path("statistics/", include("reports.urls")),
    path("staff/", include("appeals.urls_staff")),
    path("embed/", include("appeals.urls_embed")),
    path("", include("appeals.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=True,
)
