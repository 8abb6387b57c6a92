"""Data: the starting list of flag words (issue 29, part 5).

Stems of obscene and insulting words in Kyrgyz and Russian, matched at the start of a
word, case-insensitively (appeals.intake.flags). A match only flags the appeal for the
clerk, who reads the text and decides; the list is data for that filter, kept and
edited in the admin (Appeals › Flag words), and never shown to citizens. Stems are
chosen so that ordinary words rarely start with them; the admin switches off one that
flags too often.
"""

from django.db import migrations

STEMS = {
    "ru": [
        # Obscene roots and their common prefixed forms.
        "хуй",
        "хуе",
        "хуя",
        "нахуй",
        "похуй",
        "охуе",
        "пизд",
        "ебан",
        "ебат",
        "ебал",
        "заеб",
        "уеб",
        "бляд",
        "блят",
        "мудак",
        "мудил",
        "залуп",
        "гандон",
        "пидор",
        "пидар",
        "шлюх",
        # Insults.
        "мраз",
        "ублюд",
        "сволоч",
        "дебил",
        "выродок",
    ],
    "ky": [
        # Obscene.
        "сигейин",
        "сиктир",
        "сигип",
        "котак",
        "котогу",
        "амыңды",
        "амыңа",
        "сиктим",
        "жалаптар",
        "жалапсың",
        # Insults.
        "акмак",
        "келесоо",
        "бетпак",
        "шерменде",
        "наадан",
        "иттин баласы",
    ],
}


def add_words(apps, schema_editor):
    FlagWord = apps.get_model("appeals", "FlagWord")
    for language, stems in STEMS.items():
        for stem in stems:
            FlagWord.objects.get_or_create(language=language, stem=stem)


def remove_words(apps, schema_editor):
    FlagWord = apps.get_model("appeals", "FlagWord")
    for language, stems in STEMS.items():
        FlagWord.objects.filter(language=language, stem__in=stems).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0020_citizen_rights")]

    operations = [migrations.RunPython(add_words, remove_words)]
