from django.urls import path

from appeals.views import citizen, personal_data, public, verify

app_name = "appeals"

urlpatterns = [
    path("appeal/", public.file_appeal, name="file"),
    path("appeal/sent/<str:tracking_number>/", public.appeal_sent, name="sent"),
    path(
        "appeal/sent/<str:tracking_number>/receipt.pdf",
        public.receipt_pdf,
        name="receipt_pdf",
    ),
    path("track/", public.track, name="track"),
    path("track/<str:tracking_number>/", public.appeal_status, name="status"),
    path("track/<str:tracking_number>/rate/", public.rate_answer, name="rate"),
    path(
        "track/<str:tracking_number>/re-review/",
        public.ask_re_review,
        name="re_review",
    ),
    path("track/<str:tracking_number>/add/", citizen.add, name="add"),
    path("track/<str:tracking_number>/withdraw/", citizen.withdraw, name="withdraw"),
    path(
        "track/<str:tracking_number>/my-data.pdf",
        personal_data.my_data_pdf,
        name="my_data_pdf",
    ),
    path(
        "track/<str:tracking_number>/my-data.json",
        personal_data.my_data_json,
        name="my_data_json",
    ),
    path(
        "track/<str:tracking_number>/answer.pdf",
        public.answer_letter,
        name="answer_letter",
    ),
    path("verify/<str:code>/", verify.verify, name="verify"),
]
