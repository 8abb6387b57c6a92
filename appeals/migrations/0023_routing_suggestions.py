"""Schema: the routing model's versions and the suggestions shown to controllers (issue
30); filled in when that issue's work lands."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appeals", "0022_consent_and_policy_texts")]

    operations = []
