"""Kyrgyz formats as the chancellery writes them.

Numbers: "16,5 %" (decimal comma; Django's own ky locale uses a point). Dates: the long
form "2026-жылдын 6-декабры" (the month in the possessive after the day: Django's `E`,
whose Kyrgyz names the project's catalogue gives, see MONTHS_GENITIVE), the short form
"06.12.2026". Django's ky locale wrote "6 Декабрь 2026 ж.": a capitalised nominative
month and no hyphen.
"""

from django.utils.translation import pgettext_lazy

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3

# Non-Latin letters are not format characters: "жылдын" needs no escaping.
DATE_FORMAT = "Y-жылдын j-E"
DATETIME_FORMAT = "Y-жылдын j-E, H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "Y-жылдын E"
MONTH_DAY_FORMAT = "j-E"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday

# Django's `E` reads these (django.utils.dates.MONTHS_ALT); listed here so that
# makemessages keeps them in the project's catalogue, which wins over Django's own.
MONTHS_GENITIVE = (
    pgettext_lazy("alt. month", "January"),
    pgettext_lazy("alt. month", "February"),
    pgettext_lazy("alt. month", "March"),
    pgettext_lazy("alt. month", "April"),
    pgettext_lazy("alt. month", "May"),
    pgettext_lazy("alt. month", "June"),
    pgettext_lazy("alt. month", "July"),
    pgettext_lazy("alt. month", "August"),
    pgettext_lazy("alt. month", "September"),
    pgettext_lazy("alt. month", "October"),
    pgettext_lazy("alt. month", "November"),
    pgettext_lazy("alt. month", "December"),
)
