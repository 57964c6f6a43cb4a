"""Billing reads, one module per noun: ``invoices`` (loaders and pages), ``setup``, ``reports``, ``superbills``."""
