"""Drops the LIKE-only indexes (varchar_pattern_ops) PostgreSQL's schema editor gave every public id
column before `PublicIdField` named its type `character varying`: an id is only compared whole, and
each of these indexes was written on every insert. Tables made after this have none, whichever app's
migration makes them, so this one depends on no other app."""

from django.db import migrations


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE %s",
            [r"%\_public\_id\_%\_like"],
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [("core", "0008_trail_and_outbox_indexes_that_pages_read")]

    operations = [migrations.RunPython(drop_like_indexes, migrations.RunPython.noop, elidable=True)]
