"""Template context every page needs: language links and the accessibility modes."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation

A11Y_COOKIE = "a11y"
A11Y_MODES = ("font-150", "font-200", "spacing", "no-images", "contrast")


def a11y_modes(request: HttpRequest) -> list[str]:
    raw = request.COOKIES.get(A11Y_COOKIE, "")
    return [mode for mode in raw.split(",") if mode in A11Y_MODES]


def portal(request: HttpRequest) -> dict:
    current = translation.get_language()
    path = request.get_full_path()
    languages = [
        {
            "code": code,
            "name": name,
            "url": translate_url(path, code) if code != current else path,
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]
    modes = a11y_modes(request)
    return {
        "portal_languages": languages,
        "a11y_modes": modes,
        "a11y_classes": " ".join(f"a11y-{mode}" for mode in modes),
    }
