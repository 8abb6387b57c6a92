from django.contrib.auth import views as auth_views
from django.urls import path

from appeals.accounts import views as auth
from appeals.views import (
    dashboard,
    data_requests,
    inbox,
    journal,
    routing,
    staff,
    suggestions,
)

app_name = "staff"

urlpatterns = [
    path("login/", auth.StaffLoginView.as_view(), name="login"),
    path("login/code/", auth.verify, name="two_factor"),
    path("login/authenticator/", auth.setup, name="two_factor_setup"),
    path(
        "logout/", auth_views.LogoutView.as_view(next_page="staff:login"), name="logout"
    ),
    path("", staff.dashboard, name="dashboard"),
    path("queue/", staff.queue, name="queue"),
    path("queue/<int:pk>/", staff.queue_item, name="queue_item"),
    path("register/written/", staff.register_written, name="register_written"),
    path("register/oral/", staff.register_oral, name="register_oral"),
    path("register/topic/", suggestions.suggest_topic, name="suggest_topic"),
    path("appeals/<int:pk>/", staff.registration_card, name="card"),
    path("attachments/<int:pk>/", staff.attachment, name="attachment"),
    path("answers/<int:pk>/letter.pdf", staff.answer_letter, name="answer_letter"),
    path("routing/", routing.controllers_queue, name="controllers_queue"),
    path("routing/<int:pk>/", routing.route, name="route"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox.work, name="work"),
    path("figures/", dashboard.figures, name="figures"),
    path("figures/appeals/", dashboard.figure_appeals, name="figure_appeals"),
    path("journal/", journal.journal, name="journal"),
    path("journal/export.<str:fmt>", journal.export, name="journal_export"),
    path("data-requests/", data_requests.register, name="data_requests"),
    path("data-requests/new/", data_requests.record, name="data_request_new"),
    path("data-requests/<int:pk>/", data_requests.detail, name="data_request"),
    path(
        "data-requests/<int:pk>/answer.pdf",
        data_requests.document,
        name="data_request_pdf",
    ),
    path(
        "data-requests/<int:pk>/answered/",
        data_requests.answered,
        name="data_request_answered",
    ),
]
