from django.urls import include, path, re_path

from mend.accounts.urls import member_patterns
from mend.api import api, unknown_path
from mend.web import admin_site, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("mend.accounts.urls")),
    path("", include("mend.clinics.urls")),
    path("settings/members/", include(member_patterns)),
    path("", include("mend.people.urls")),
    path("", include("mend.audit.urls")),
    path("", include("mend.clinical.urls")),
    path("", include("mend.outcomes.urls")),
    path("", include("mend.scheduling.urls")),
    path("", include("mend.billing.urls")),
    # Before the API's own routes: its reference page is Mend's (mend.web.apidocs), not Swagger UI.
    path("api/v1/docs", views.api_docs, name="api_docs"),
    path("api/v1/", api.urls),
    # After every route of the API: the rest of /api/v1/ answers a JSON 404 (no slash redirect).
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_path, name="api-unknown-path"),
    path("admin/", admin_site.site.urls),
]

handler404 = "mend.web.errors.not_found"
handler403 = "mend.web.errors.forbidden"
handler500 = "mend.web.errors.server_error"
