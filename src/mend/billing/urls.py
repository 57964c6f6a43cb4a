from mend.billing.views import invoices, reports, setup, superbills

urlpatterns = [*invoices.urlpatterns, *setup.urlpatterns, *reports.urlpatterns, *superbills.urlpatterns]
