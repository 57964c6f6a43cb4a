"""Billing forms, one module per noun (invoices, setup, reports)."""
