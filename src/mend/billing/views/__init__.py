"""Billing pages, one module per noun; each lists its own ``urlpatterns`` (gathered in ``billing/urls.py``)."""
