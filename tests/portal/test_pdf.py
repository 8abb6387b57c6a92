"""The PDF helper reads static files from disk and refuses the network."""

import shutil
import subprocess

import pytest
from django.conf import settings
from django.template import engines
from weasyprint import HTML

from portal import pdf


def _render_string(html: str, fetcher=None) -> bytes:
    fetcher = fetcher or pdf.StaticFilesFetcher()
    return HTML(string=html, base_url="file:///", url_fetcher=fetcher).write_pdf()


def test_a_static_image_is_read_from_the_project(caplog):
    fetched = []

    class Recording(pdf.StaticFilesFetcher):
        def fetch(self, url, headers=None):
            response = super().fetch(url, headers)
            fetched.append((url, response.url))
            return response

    html = '<p>Кеңеш</p><img src="/static/img/favicon.svg" width="40">'
    with caplog.at_level("WARNING", logger="weasyprint"):
        content = _render_string(html, Recording())
    assert content.startswith(b"%PDF")
    expected = (settings.BASE_DIR / "static/img/favicon.svg").resolve().as_uri()
    assert fetched == [("file:///static/img/favicon.svg", expected)]
    assert not [r for r in caplog.records if "Failed to load" in r.getMessage()]


def test_the_network_is_never_reached():
    with pytest.raises(ValueError):
        pdf.StaticFilesFetcher().fetch("http://example.com/logo.png")


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_kyrgyz_letters_survive_in_the_pdf_text():
    template = engines["django"].from_string("<p>{{ text }}</p>")
    content = _render_string(template.render({"text": "Жогорку Кеңеш, Өкмөт, Түштүк"}))
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    assert "Жогорку Кеңеш, Өкмөт, Түштүк" in text
