"""The inbox counts (appeals.inbox_rollup): their table, and on PostgreSQL the triggers
that keep them in the transaction of every write to appeals and assignments, and their
first contents computed from the open appeals (one grouped pass; on a production
upgrade writes to appeals and assignments wait for it, SHARE lock)."""

from django.db import migrations, models

from appeals import inbox_rollup


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # the SQLite demo counts live
    # The SQL is appeals.inbox_rollup': a later change to it comes with a migration
    # that runs install_sql() again (CREATE OR REPLACE) and rebuilds.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(inbox_rollup.uninstall_sql())
        cursor.execute(inbox_rollup.install_sql())
        cursor.execute(inbox_rollup.rebuild_sql())


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(inbox_rollup.uninstall_sql())


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0015_fewer_appeal_indexes_for_writes"),
    ]

    operations = [
        migrations.CreateModel(
            name="InboxCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("agency_id", models.IntegerField()),
                (
                    "part",
                    models.CharField(
                        choices=[("lead", "Lead"), ("co", "Co Executor")], max_length=4
                    ),
                ),
                ("is_new", models.BooleanField()),
                ("due_on", models.DateField(null=True)),
                ("appeals", models.BigIntegerField()),
                ("compacted", models.BooleanField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["agency_id", "is_new", "due_on", "appeals"],
                        name="inbox_count_agency_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
