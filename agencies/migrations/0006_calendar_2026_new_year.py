"""Data: the days off the Cabinet of Ministers added to the New Year holidays of 2026.

The `holidays` package (0.109) knows 1-7 January 2026 (New Year holidays and Christmas)
but not 8 and 9 January (Thursday and Friday), which the Cabinet of Ministers made days
off for state and municipal bodies, institutions and budget-funded enterprises on a
five-day week, extending the holidays to Sunday 11 January (work resumes on Monday 12
January). The draft put to public discussion in December 2025 would have made
Saturday 7 February and Saturday 25 April working days in exchange; as reported when it
was adopted (24.kg, "Кабмин продлил новогодние каникулы в Кыргызстане до 12 января
2026 года", news 356104), the final resolution has no such transfer, so no working
Saturday is added. The resolution was adopted under articles 13 and 17 of the
constitutional Law "On the Cabinet of Ministers" and took effect on 1 January 2026; its
number was not verified here, so the reason names it without one. Where the number is
known, correct the reason in the admin (Calendar days).

The portal's time limits are those of state bodies, so these days count as days off.
An entry an admin already made for either day is left as it is.
"""

import datetime as dt

from django.db import migrations

SOURCE = {
    "ky": (
        "Кыргыз Республикасынын Министрлер Кабинетинин 2026-жылдагы жаңы жылдык "
        "эс алуу күндөрүн 12-январга чейин узартуу жөнүндө токтому (мамлекеттик жана "
        "муниципалдык мекемелер үчүн)"
    ),
    "ru": (
        "Постановление Кабинета Министров Кыргызской Республики о продлении "
        "новогодних каникул 2026 года до 12 января (для государственных и "
        "муниципальных учреждений)"
    ),
    "en": (
        "Cabinet of Ministers decree on the 2026 holidays: New Year holidays extended "
        "to 12 January for state and municipal bodies"
    ),
}
DAYS = (dt.date(2026, 1, 8), dt.date(2026, 1, 9))


def add_days_off(apps, schema_editor):
    CalendarDay = apps.get_model("agencies", "CalendarDay")
    for day in DAYS:
        CalendarDay.objects.get_or_create(
            day=day,
            defaults={
                "kind": "day_off",
                "reason": SOURCE["ky"],
                **{f"reason_{code}": text for code, text in SOURCE.items()},
            },
        )


def remove_days_off(apps, schema_editor):
    apps.get_model("agencies", "CalendarDay").objects.filter(
        day__in=DAYS, kind="day_off", reason_en=SOURCE["en"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("agencies", "0005_api_clients_and_embed_origins")]

    operations = [migrations.RunPython(add_days_off, remove_days_off)]
