"""PDF rendering with WeasyPrint: A4, fonts with the Kyrgyz letters, static files read
from disk (never fetched over the network)."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher

STATIC_PREFIX = "file:///static/"


class StaticFilesFetcher(URLFetcher):
    """Resolves /static/... to the project's files; refuses everything else but data:
    URIs, so a PDF never reaches the network (the portal runs in a closed network)."""

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"})

    def fetch(self, url, headers=None):
        if url.startswith(STATIC_PREFIX):
            relative = url[len(STATIC_PREFIX) :]
            path = finders.find(relative) or str(Path(settings.STATIC_ROOT) / relative)
            url = Path(path).resolve().as_uri()
        elif not url.startswith("data:"):
            raise ValueError(f"PDF rendering refuses to fetch {url!r}")
        return super().fetch(url, headers)


# The archival form of issued letters and reports: PDF/A-3b (fonts embedded, an sRGB
# output intent, XMP metadata); an archive validates it with veraPDF.
ARCHIVAL = "pdf/a-3b"


def render(
    template: str,
    context: dict,
    *,
    request: HttpRequest | None = None,
    variant: str | None = None,
) -> bytes:
    html = render_to_string(template, context, request=request)
    return HTML(
        string=html, base_url="file:///", url_fetcher=StaticFilesFetcher()
    ).write_pdf(pdf_variant=variant)


def response(content: bytes, *, filename: str, inline: bool = False) -> HttpResponse:
    result = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    result["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return result
