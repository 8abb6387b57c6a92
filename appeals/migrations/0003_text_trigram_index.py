"""Similar-text search for clerks: pg_trgm and a GIN trigram index on the appeal text.

PostgreSQL only (the production database); on the SQLite demo this does nothing and
the selector falls back to a simpler match.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS appeal_text_trgm_idx "
        "ON appeals_appeal USING gin (text gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_text_trgm_idx")


class Migration(migrations.Migration):
    # Built CONCURRENTLY outside a transaction: the appeals table stays writable.
    atomic = False
    dependencies = [("appeals", "0002_staged_uploads_and_applicant_keys")]

    operations = [migrations.RunPython(create, drop)]
