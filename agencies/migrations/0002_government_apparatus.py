"""The Government Apparatus exists on every database: registration numbers, demo data
and imports need the chancellery's agency from the first migration on."""

from django.db import migrations

from agencies.defaults import ensure_government_apparatus


def create_apparatus(apps, schema_editor):
    ensure_government_apparatus(apps.get_model("agencies", "Agency"))


class Migration(migrations.Migration):
    dependencies = [("agencies", "0001_initial")]

    operations = [migrations.RunPython(create_apparatus, migrations.RunPython.noop)]
