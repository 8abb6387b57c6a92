"""Data: the first consent version and processing policy (issue 29, part 4)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appeals", "0021_flag_words")]

    operations = []
