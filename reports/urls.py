from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.open_statistics, name="open_statistics"),
]
