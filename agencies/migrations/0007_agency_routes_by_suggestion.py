"""Schema: an agency's opt-in to appeals routed by suggestion (issue 30), off by default."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("agencies", "0006_calendar_2026_new_year")]

    operations = [
        migrations.AddField(
            model_name="agency",
            name="routes_by_suggestion",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Appeals whose suggested agency is this one, with a probability "
                    "above the threshold the administrator set, are routed here "
                    "without a controller."
                ),
                verbose_name="accepts appeals routed by suggestion",
            ),
        ),
    ]
