"""Award staff (who works on which award, in which role) and the two groups granting the
model permissions of each role: Organizers and Moderators."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

GROUPS = {
    # Everything on their own awards; deleting an award (and its votes' history) is a
    # superuser's call, and votes and standings are never deleted.
    "Organizers": {
        "awards": [
            "add_award", "change_award", "view_award",
            "add_category", "change_category", "delete_category", "view_category",
            "add_nominee", "change_nominee", "delete_nominee", "view_nominee",
        ],
        "voting": [
            "view_vote", "change_vote", "view_auditentry", "view_standing",
            "view_standingssnapshot",
        ],
    },
    # The integrity review: read the award and its votes, hold, void or restore them.
    "Moderators": {
        "awards": ["view_award"],
        "voting": ["view_vote", "change_vote", "view_auditentry"],
    },
}


def groups_create(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are otherwise created after every migration has run: too late for a new
    # database, whose groups are made here.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in by_app.items():
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
            assert found.count() == len(codenames), (name, app_label)
            group.permissions.add(*found)


def groups_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('awards', '0008_results_rules_retention'),
        ('voting', '0005_vote_integrity_evidence_and_audit'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AwardStaff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('organizer', 'Organizer'), ('moderator', 'Moderator')], default='organizer', max_length=20)),
                ('award', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='staff', to='awards.award')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='award_roles', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'award staff member',
                'constraints': [models.UniqueConstraint(fields=('user', 'award'), name='award_staff_once')],
            },
        ),
        migrations.RunPython(groups_create, groups_delete),
    ]
