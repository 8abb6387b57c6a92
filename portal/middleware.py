"""Request-wide middleware of operations: the request id of logs, errors and tasks."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
