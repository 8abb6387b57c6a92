"""Schema: the signed documents the portal issues and their verification codes (issue
31); filled in when that issue's work lands."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appeals", "0023_routing_suggestions")]

    operations = []
