"""One staged file per unsent form and content: a double-click's two parallel posts of
the same file used to stage it twice (and attach it twice). Duplicates already staged
are removed first, keeping the earliest; their stored files go with them."""

from django.db import migrations, models
from django.db.models import Min


def remove_duplicates(apps, schema_editor):
    StagedUpload = apps.get_model("appeals", "StagedUpload")
    groups = (
        StagedUpload.objects.values("submission_key", "sha256")
        .annotate(first=Min("id"), count=models.Count("id"))
        .filter(count__gt=1)
    )
    for group in groups:
        for item in StagedUpload.objects.filter(
            submission_key=group["submission_key"], sha256=group["sha256"]
        ).exclude(id=group["first"]):
            item.file.delete(save=False)
            item.delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0017_number_suffix_index")]

    operations = [
        migrations.RunPython(remove_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="stagedupload",
            constraint=models.UniqueConstraint(
                fields=("submission_key", "sha256"), name="staged_upload_once_per_form"
            ),
        ),
    ]
