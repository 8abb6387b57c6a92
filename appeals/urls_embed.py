from django.urls import path

from .views import embed

app_name = "embed"

urlpatterns = [
    path("<slug:agency>/", embed.embed_form, name="form"),
]
