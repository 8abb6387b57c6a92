from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.open_statistics, name="open_statistics"),
    # Staff only (managers, controllers, agency heads).
    path("manager/", views.manager, name="manager"),
    path("manager/download/", views.download, name="download"),
    path("archive/<int:pk>/<str:fmt>/", views.archived_file, name="archived_file"),
]
