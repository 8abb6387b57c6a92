"""Fewer index entries per appeal and event written (issue 11: import of 100,000 rows).

Every row written to appeals_appeal paid for 32 indexes. Measured with
bench/profile_import.py on the 1M benchmark set, these were the ones no query needs
as they were:

- the `_like` (varchar_pattern_ops) copies Django makes beside the unique indexes of
  tracking_number and registration_number: nothing looks either up by prefix (the
  journal's number search by ending uses appeal_number_trgm_idx); the tracking
  number's, on random keys, was the dearest b-tree of all;
- received_on's own index: appeal_intake_idx (received_on, channel, form) leads with it;
- the registering and lead agency's own indexes: the journal indexes and
  appeal_lead_intake_idx lead with them;
- the six foreign keys empty on most rows (registered_by, received_by, addressee,
  topic, repeat_of, mass_lead) and the event's actor: now indexed where set only
  (partial), which is all that PROTECT and the reverse look-ups (`= id`) read;
- the event's appeal_id: event_appeal_at_idx (appeal, at) leads with it.

The partial indexes are built CONCURRENTLY first, then the old ones are dropped
CONCURRENTLY: the tables stay writable and every look-up keeps an index throughout.
The state changes are the fields' `db_index=False`; the `_like` indexes were never in
Django's state.
"""

from django.conf import settings
from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrently

PARTIAL = (
    "registered_by",
    "received_by",
    "addressee",
    "topic",
    "repeat_of",
    "mass_lead",
)

# (table, column, suffix, operator class) of the indexes dropped: names as Django made
# them (schema_editor._create_index_name), so computed the same way here.
DROPPED = (
    ("appeals_appeal", "tracking_number", "_like", "varchar_pattern_ops"),
    ("appeals_appeal", "registration_number", "_like", "varchar_pattern_ops"),
    ("appeals_appeal", "received_on", "", ""),
    ("appeals_appeal", "registering_agency_id", "", ""),
    ("appeals_appeal", "lead_agency_id", "", ""),
    *(("appeals_appeal", f"{field}_id", "", "") for field in PARTIAL),
    ("appeals_event", "appeal_id", "", ""),
    ("appeals_event", "actor_id", "", ""),
)


def _name(schema_editor, table: str, column: str, suffix: str) -> str:
    return schema_editor._create_index_name(table, [column], suffix=suffix)


def drop(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, column, suffix, _opclass in DROPPED:
        if suffix and not postgres:
            continue  # only PostgreSQL had the pattern copies
        name = schema_editor.quote_name(_name(schema_editor, table, column, suffix))
        concurrently = "CONCURRENTLY " if postgres else ""
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


def restore(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, column, suffix, opclass in DROPPED:
        if suffix and not postgres:
            continue
        quote = schema_editor.quote_name
        name = quote(_name(schema_editor, table, column, suffix))
        concurrently = "CONCURRENTLY " if postgres else ""
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} "
            f"ON {quote(table)} ({quote(column)} {opclass})"
        )


class Migration(migrations.Migration):
    # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("agencies", "0005_api_clients_and_embed_origins"),
        ("appeals", "0014_open_intake_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(
            AddIndexConcurrently(
                model_name="appeal",
                index=models.Index(
                    condition=models.Q((f"{field}__isnull", False)),
                    fields=[field],
                    name=f"appeal_{field}_idx",
                ),
            )
            for field in PARTIAL
        ),
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)),
                fields=["actor"],
                name="event_actor_idx",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="appeal",
                    name="addressee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="Empty when the citizen does not know which body "
                        "is competent.",
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="addressed_appeals",
                        to="agencies.agency",
                        verbose_name="addressee",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="lead_agency",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="led_appeals",
                        to="agencies.agency",
                        verbose_name="lead agency",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="mass_lead",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="mass_members",
                        to="appeals.appeal",
                        verbose_name="mass appeal group",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="received_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="received the citizen",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="received_on",
                    field=models.DateField(verbose_name="date received"),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="registered_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="registered by",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="registering_agency",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="registered_appeals",
                        to="agencies.agency",
                        verbose_name="registering agency",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="repeat_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="repeats",
                        to="appeals.appeal",
                        verbose_name="repeat of",
                    ),
                ),
                migrations.AlterField(
                    model_name="appeal",
                    name="topic",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="appeals",
                        to="agencies.topic",
                        verbose_name="topic",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="appeal",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="events",
                        to="appeals.appeal",
                    ),
                ),
            ],
        ),
    ]
