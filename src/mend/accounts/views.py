from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters

from mend.accounts import services
from mend.clinics import queries as clinic_queries
from mend.platform.http import ActorRequest
from mend.platform.pages import SESSION_CLINIC_KEY, actor_required


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "That email and password do not match an account. Check both and try again.",
        "inactive": "This account is deactivated. Ask your clinic's owner.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        # A fresh session starts in the first of the user's clinics by name.
        first = next(iter(clinic_queries.active_memberships(user)), None)
        self.request.session[SESSION_CLINIC_KEY] = first.clinic_id if first else None
        services.login_succeeded(user=user, membership=first)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        services.login_failed(attempted_email=self.request.POST.get("username", ""))
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            services.logged_out(user=request.user)
        response = super().post(request, *args, **kwargs)
        # Tell the browser to forget what it cached of health information (ONC d(7)).
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


@actor_required
def account(request: ActorRequest) -> HttpResponse:
    """The signed-in person's own page: password, sign-in factors and API tokens."""
    return render(request, "accounts/account.html", {})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset.html",
    email_template_name="accounts/password_reset_email.txt",
    subject_template_name="accounts/password_reset_subject.txt",
    success_url=reverse_lazy("password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm = sensitive_post_parameters()(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("password_reset_complete")
    )
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
