"""Reads of accounts: users by their sign-in email."""

from __future__ import annotations

from mend.accounts.models import User


def user_by_email(email: str) -> User | None:
    """The user who signs in with ``email`` (compared without case), or None."""
    return User.objects.filter(email__iexact=email.strip()).first()
