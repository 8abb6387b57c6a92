from django.urls import path

from appeals.views import embed

app_name = "embed"

urlpatterns = [
    path("<slug:agency>/", embed.embed_form, name="form"),
]
