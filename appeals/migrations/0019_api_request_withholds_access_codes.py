"""API answers are kept for replay without the citizen's access code: the codes kept in
clear until now are removed from the stored answers, and a replay issues a new code."""

from django.db import migrations, models


def withhold_stored_codes(apps, schema_editor):
    ApiRequest = apps.get_model("appeals", "ApiRequest")
    for record in ApiRequest.objects.filter(response_body__has_key="access_code"):
        if record.response_body.get("access_code"):
            record.response_body = {**record.response_body, "access_code": None}
            record.access_code_withheld = True
            record.save(update_fields=["response_body", "access_code_withheld"])


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0018_staged_upload_once_per_form"),
    ]

    operations = [
        migrations.AddField(
            model_name="apirequest",
            name="access_code_withheld",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(withhold_stored_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="event",
            name="type",
            field=models.CharField(
                choices=[
                    ("submitted", "submitted through the portal"),
                    ("registered", "registered"),
                    ("left_without_consideration", "left without consideration"),
                    ("imported", "imported from an old register"),
                    ("linked_repeat", "linked as a repeated appeal"),
                    ("grouped", "grouped with a mass appeal"),
                    ("routed", "sent to the agency"),
                    ("forwarded", "forwarded to another body"),
                    ("assigned", "executor assigned"),
                    ("returned", "returned as outside the agency's competence"),
                    ("contributed", "co-executor's input sent"),
                    ("answer_submitted", "answer submitted for approval"),
                    ("answer_sent_back", "answer sent back for revision"),
                    ("extended", "deadline extended"),
                    ("overdue", "deadline missed"),
                    ("answered", "answered"),
                    ("re_review_requested", "re-review requested"),
                    ("rated", "answer rated by the citizen"),
                    ("notified", "citizen notified"),
                    (
                        "personal_data_removed",
                        "personal data removed under the retention period",
                    ),
                    ("access_code_reissued", "access code issued anew"),
                ],
                max_length=40,
                verbose_name="event",
            ),
        ),
    ]
