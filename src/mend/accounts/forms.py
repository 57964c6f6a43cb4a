"""Forms of signing in and of the account page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from mend.accounts.models import User


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "That email and password do not match an account. Check both and try again.",
        "inactive": "This account is deactivated. Ask your clinic's owner.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})


class CodeForm(forms.Form):
    """The second step of signing in: an authenticator app's code or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}),
        error_messages={"required": "Type the code your authenticator app shows."},
    )


class TotpEnrolForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=64,
        required=False,
        help_text="To tell your devices apart, for example “Phone”.",
    )
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Type the 6-digit code the app shows after adding Mend."},
    )


class PasswordConfirmForm(forms.Form):
    """Re-entering the password before sign-in factors change (ASVS 7.5.1)."""

    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "Type your password."},
    )

    def __init__(self, *args: Any, user: User, request: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        # Through authenticate(), so django-axes counts wrong passwords here as on the sign-in page.
        checked = authenticate(self.request, username=self.user.email, password=password)
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError("That is not your password.")
        return password
