"""The Government Apparatus exists on every database: registration numbers, demo data
and imports need the chancellery's agency from the first migration on."""

from django.db import migrations


def create_apparatus(apps, schema_editor):
    Agency = apps.get_model("agencies", "Agency")
    Agency.objects.get_or_create(
        slug="gov-apparatus",
        defaults={
            "code": "GA",
            "kind": "apparatus",
            "name": "Кыргыз Республикасынын Министрлер Кабинетинин Аппараты",
            "name_ky": "Кыргыз Республикасынын Министрлер Кабинетинин Аппараты",
            "name_ru": "Аппарат Кабинета Министров Кыргызской Республики",
            "name_en": "Apparatus of the Cabinet of Ministers of the Kyrgyz Republic",
            "short_name": "Аппарат",
            "short_name_ky": "Аппарат",
            "short_name_ru": "Аппарат",
            "short_name_en": "Government Apparatus",
            "address": "Бишкек ш., Чүй пр., 205, Өкмөт үйү",
            "address_ky": "Бишкек ш., Чүй пр., 205, Өкмөт үйү",
            "address_ru": "г. Бишкек, пр. Чуй, 205, Дом Правительства",
            "address_en": "205 Chui Avenue, Government House, Bishkek",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("agencies", "0001_initial")]

    operations = [migrations.RunPython(create_apparatus, migrations.RunPython.noop)]
