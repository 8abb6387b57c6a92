"""The journal's search by the end of a registration number ("000123", "23") reads a
b-tree on the reversed number (LIKE '321000%', text_pattern_ops) instead of the pg_trgm
GIN index of 0004. Registration numbers are mostly zeros and digits, so the trigrams
of an ending ("000", "001", ...) match most of the register: at 10M appeals the
chancellery's search for "000123" took 4.7-5.6 s through the GIN index and takes
6-35 ms through this one; endings shorter than a trigram are served too. An insert
costs about what it did (bench/README, "Where it stands").

PostgreSQL only, like 0004; built CONCURRENTLY, so the appeals table stays writable,
then the table is analysed: the planner has no statistics of the new expression
until it is, and guesses the ending matches 0.5% of the register.
"""

from django.db import migrations


def create_suffix_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS appeal_number_suffix_idx "
        "ON appeals_appeal (reverse(registration_number) text_pattern_ops)"
    )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_number_trgm_idx")
    schema_editor.execute("ANALYZE appeals_appeal")


def restore_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS appeal_number_trgm_idx "
        "ON appeals_appeal USING gin (registration_number gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_number_suffix_idx")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("appeals", "0016_inbox_counts")]

    operations = [migrations.RunPython(create_suffix_index, restore_trigram_index)]
