"""PDF rendering with WeasyPrint: A4, fonts with the Kyrgyz letters, static files read
from disk (never fetched over the network)."""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def _url_fetcher(url: str, timeout: int = 10, ssl_context=None):
    from weasyprint.urls import default_url_fetcher

    prefix = "file:///static/"
    if url.startswith(prefix):
        relative = url[len(prefix) :]
        path = finders.find(relative) or str(settings.STATIC_ROOT / relative)
        return default_url_fetcher(f"file://{path}")
    if url.startswith(("data:", "file://")):
        return default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
    raise ValueError(f"PDF rendering refuses to fetch {url!r}")


def render(
    template: str, context: dict, *, request: HttpRequest | None = None
) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    return HTML(string=html, base_url="file:///", url_fetcher=_url_fetcher).write_pdf()


def response(content: bytes, *, filename: str, inline: bool = False) -> HttpResponse:
    result = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    result["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return result
