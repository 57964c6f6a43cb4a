"""The WSGI application `mend serve` (gunicorn) and `mend runserver` load, once per worker."""

import os

from django.core.wsgi import get_wsgi_application

from mend.clinical import icd10  # plain Python: safe to import before Django is set up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Pay at worker start what some client's first request would otherwise pay.

    Only servers pay for it: other management commands and the test suite never import this module.
    A gunicorn worker imports this module before it accepts a request, and the master does not hand
    a connection to a worker still loading, so a request arriving meanwhile waits for a warm one.
    """
    from django.template.loader import get_template
    from django.urls import get_resolver, reverse

    from mend.outcomes import evidence

    # The ICD-10-CM code set: about a second to parse, else on the first diagnosis search.
    icd10.warm()
    # Django imports the URLconf, and with it every view and what the views import (SciPy's
    # statistics, pygal: seconds on a busy machine), on the first request, not in get_wsgi_application().
    get_resolver().url_patterns  # noqa: B018 - the property imports them
    reverse("evidence_report")  # builds the resolver's reverse tables, else built by the first {% url %}
    # The evidence report's own first-call costs (SciPy's distributions, the registry, the literature)
    # and its templates, compiled once by the cached loader.
    evidence.warm()
    for name in ("outcomes/evidence.html", "outcomes/_evidence_table.html", "outcomes/_evidence_row.html"):
        get_template(name)


_warm()
