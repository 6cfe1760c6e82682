"""The database cache's table (embedded mode's CACHES), made by `migrate` itself.

Without it every page and vote failed on "no such table: laurel_cache" until someone ran
`createcachetable`, a step a fresh install easily misses. createcachetable makes only the
tables of the database caches configured for this database, skips those that exist, and does
nothing in real mode, whose cache is Redis.
"""

from django.core.management import call_command
from django.db import migrations


def cache_tables_create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0005_vote_integrity_evidence_and_audit"),
    ]

    operations = [
        migrations.RunPython(cache_tables_create, migrations.RunPython.noop),
    ]
