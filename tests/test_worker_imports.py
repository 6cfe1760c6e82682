"""A web worker's memory: libraries that only rare pages need stay out of it until used."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
# The nominee import (django-import-export, tablib, openpyxl), the .ics reminder (icalendar),
# QR codes (segno) and drawn images (Pillow): some 20 MB that public pages never use.
RARE = ["openpyxl", "tablib", "import_export.admin", "icalendar", "segno", "PIL"]
# A fresh interpreter, started as a web worker is: settings, apps, the URLconf, then requests.
WORKER = """
import json, sys
from django.conf import settings
database, pages, rare = sys.argv[1], json.loads(sys.argv[2]), set(json.loads(sys.argv[3]))
settings.DATABASES["default"]["NAME"] = database  # the test database, before any connection
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import get_resolver
setup_test_environment()
get_resolver().url_patterns
client = Client()
statuses = [client.get(page, secure=True).status_code for page in pages]
loaded = sorted(rare & set(sys.modules))
print("RESULT", json.dumps({"statuses": statuses, "loaded": loaded}))
"""


def worker_run(pages: list[str]) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "laurel.settings"}
    database = str(connection.settings_dict["NAME"])
    done = subprocess.run(
        [sys.executable, "-c", WORKER, database, json.dumps(pages), json.dumps(RARE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.rsplit("RESULT ", 1)[1])


@pytest.mark.django_db(transaction=True)  # committed, so that the worker's connection sees it
def test_a_web_worker_serving_public_pages_does_not_load_the_import_or_image_libraries(nominee):
    pages = [reverse("home"), reverse("award", args=["sbia"]), nominee.get_absolute_url()]
    assert worker_run(pages) == {"statuses": [200, 200, 200], "loaded": []}
