"""Billing writes: every rule of an invoice, payment, credit or superbill holds here, whoever calls.

Split by noun: ``setup`` (price list, tax, policy, payers), ``invoices`` (drafts, issue, credit notes,
the invoice an appointment makes), ``payments`` (payments, refunds, write-offs, package and gift-card
redemption), ``credits`` (selling packages and gift cards, memberships), ``checkout`` (the provider).
"""
