"""/api/v1/: the endpoints, the OpenAPI schema and its documentation pages."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from appeals.api import views
from appeals.api.docs import DocsView

app_name = "api"

urlpatterns = [
    path("appeals/", views.AppealsView.as_view(), name="appeals"),
    path(
        "appeals/<str:number>/", views.AppealDetailView.as_view(), name="appeal_detail"
    ),
    path(
        "appeals/<str:number>/additions/",
        views.AdditionsView.as_view(),
        name="appeal_additions",
    ),
    path("forwarded/", views.ForwardedView.as_view(), name="forwarded"),
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
]
