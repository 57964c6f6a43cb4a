from django.urls import include, path

from mend.api import api
from mend.web import admin_site, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("mend.accounts.urls")),
    path("", include("mend.clinics.urls")),
    path("", include("mend.people.urls")),
    path("", include("mend.audit.urls")),
    path("", include("mend.clinical.urls")),
    path("", include("mend.outcomes.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin_site.site.urls),
]

handler404 = "mend.web.errors.not_found"
handler403 = "mend.web.errors.forbidden"
handler500 = "mend.web.errors.server_error"
