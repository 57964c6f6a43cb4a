"""The WSGI application `mend serve` (gunicorn) and `mend runserver` load, once per worker."""

import os

from django.core.wsgi import get_wsgi_application

from mend.clinical import icd10  # plain Python: safe to import before Django is set up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
application = get_wsgi_application()

# A gunicorn worker imports this module before it accepts a request, so the ICD-10-CM code set
# (about a second to parse) is loaded here rather than on some client's first diagnosis search.
# Only servers pay for it: other management commands and the test suite never import this module.
icd10.warm()
