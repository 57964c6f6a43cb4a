from mend.billing.views import checkout, invoices, reports, setup, superbills

urlpatterns = [
    *invoices.urlpatterns,
    *setup.urlpatterns,
    *reports.urlpatterns,
    *superbills.urlpatterns,
    *checkout.urlpatterns,
]
