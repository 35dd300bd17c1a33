"""WSGI entry point (gunicorn, mod_wsgi, runserver)."""

import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

if os.environ.get("ARCHIVE_WARM_UP", "1") != "0":
    # Build the facet tables and read the field lengths now, not in the first user's request.
    from archive.search import warm_up

    threading.Thread(target=warm_up, name="archive-warm-up", daemon=True).start()
