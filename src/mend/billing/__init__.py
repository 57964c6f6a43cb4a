"""Billing: prices and tax, invoices and payments, packages, memberships and gift cards, superbills.

``mend.billing.units`` (CPT units by the CMS and AMA rules) is plain Python like ``mend.core``: it
imports nothing from Django, so payers' rules can be checked without a database.
"""
