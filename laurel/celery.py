"""The Celery application: broker and schedule come from laurel.settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laurel.settings")

app = Celery("laurel")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each package's tasks sit beside its services (voting.<package>.tasks), not at the app's top.
app.autodiscover_tasks(
    ["awards", "voting.ballot", "voting.integrity", "voting.standings", "voting.organizers"]
)
