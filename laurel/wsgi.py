import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laurel.settings")

application = get_wsgi_application()

# gunicorn runs no system checks, and a proxy set-up that makes every voter share one address
# must not wait for the first complaint: say it in the web process's log as it starts.
from laurel.lib.checks import announce_client_address_setup  # noqa: E402

announce_client_address_setup()
