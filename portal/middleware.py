"""Request-wide middleware of operations: the request id of logs, errors and tasks;
bodies without a length refused."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .logging import (
    REQUEST_ID_HEADER,
    new_request_id,
    request_id_var,
    sane_request_id,
)


class RequestIdMiddleware:
    """Takes the proxy's X-Request-ID when it is sane, else makes one; every log line
    and every task scheduled while handling the request carries it, and the response
    (the 500 page too) returns it so a citizen can quote it to the help desk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = (
            sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        )
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class BodyLengthMiddleware:
    """Refuses a body sent in chunks (Transfer-Encoding, no Content-Length) with 411
    Length Required, a JSON error for the API.

    Django reads exactly Content-Length bytes of a body, so it would read such a body
    as empty: a filing through the API would be answered as if no field had been
    sent, a form as if it were blank. It could be read: gunicorn takes the chunks off
    and says so (wsgi.input_terminated). But only some servers do, and the body would
    have to be read here, whole, outside Django's limits and its spooling of uploads
    to disk. Every client can send the length (and a proxy that buffers bodies, as
    nginx does by default, sends it for its clients).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_TRANSFER_ENCODING" in request.META and not request.META.get(
            "CONTENT_LENGTH"
        ):
            message = _(
                "Send the request body with a Content-Length header; bodies sent in "
                "chunks are not accepted."
            )
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=411)
            return HttpResponse(
                message, status=411, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
