"""Indexes of the registration journal (staff workspace), beside appeal_journal_idx.

- appeal_journal_status_idx: one agency's journal of one status, newest first (the
  dashboard links to "registered"); without it an agency with no row of that status
  is read to its end.
- appeal_journal_applicant_idx: a prefix of the normalised applicant name within one
  agency (LIKE 'key%'), which needs the pattern operator class under a non-C
  collation. Other databases get a plain index (opclasses are PostgreSQL's).
- appeal_number_trgm_idx (PostgreSQL only, like 0003): a registration number looked up
  by its end ("000123" is LIKE '%000123'), which no b-tree can answer.
"""

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrently


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS appeal_number_trgm_idx "
        "ON appeals_appeal USING gin (registration_number gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_number_trgm_idx")


class Migration(migrations.Migration):
    # Built CONCURRENTLY outside a transaction: the appeals table stays writable.
    atomic = False
    dependencies = [("appeals", "0003_text_trigram_index")]

    operations = [
        AddIndexConcurrently(
            model_name="appeal",
            index=models.Index(
                fields=["registering_agency", "status", "-received_on", "-id"],
                name="appeal_journal_status_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="appeal",
            index=models.Index(
                fields=["registering_agency", "applicant_name_key"],
                name="appeal_journal_applicant_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
