from __future__ import annotations

import json
import textwrap
from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import split_domain_port
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from mend import access
from mend.accounts import passkeys, queries, services, sessions
from mend.accounts.forms import CodeForm, EmailAuthenticationForm, PasswordConfirmForm, TotpEnrolForm
from mend.accounts.models import User
from mend.clinics import queries as clinic_queries
from mend.platform.http import ActorRequest
from mend.platform.pages import SESSION_CLINIC_KEY, actor_required


class LoginView(auth_views.LoginView):
    """The password step. Someone with a second factor is asked for it next (``login_verify``);
    they are signed in only once it checks out."""

    template_name = "accounts/login.html"
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not queries.has_second_factor(user):
            return _finish_sign_in(self.request, user, backend=user.backend, next_url=self.get_success_url())
        # A new session key for the half-done sign-in, as login() would give the whole one.
        self.request.session.cycle_key()
        sessions.start_pending(
            self.request.session, user_id=user.pk, backend=user.backend, next_url=self.get_success_url()
        )
        return redirect("login_verify")

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        services.login_failed(attempted_email=self.request.POST.get("username", ""))
        return super().form_invalid(form)


def _finish_sign_in(
    request: HttpRequest, user: User, *, backend: str, next_url: str, second_factor: str = ""
) -> HttpResponse:
    login(request, user, backend=backend)
    # A fresh session starts in the first of the user's clinics by name.
    first = next(iter(clinic_queries.active_memberships(user)), None)
    request.session[SESSION_CLINIC_KEY] = first.clinic_id if first else None
    if second_factor:
        sessions.second_factor_added(request.session, second_factor)
    services.login_succeeded(user=user, membership=first)
    return HttpResponseRedirect(next_url)


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = sessions.pending(request.session)
    user = queries.active_user(pending.get("user")) if pending else None
    if pending is None or user is None:
        return None
    return user, pending


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: an authenticator app's code, a recovery code, or a passkey."""
    found = _pending_user(request)
    if found is None:
        messages.info(request, "Sign in again: the second step was not finished within 5 minutes.")
        return redirect("login")
    user, pending = found
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kind = services.second_factor_verify(user=user, code=form.cleaned_data["code"])
        except services.FactorError as error:
            services.login_failed(attempted_email=user.email)
            form.add_error("code", str(error))
        else:
            if kind == "recovery":
                messages.warning(
                    request, "You signed in with a recovery code. Each works once: make new ones if few are left."
                )
            return _finish_sign_in(
                request, user, backend=pending["backend"], next_url=pending["next"], second_factor=kind
            )
    context = {"form": form, "has_passkeys": bool(queries.passkeys(user))}
    return render(request, "accounts/login_verify.html", context, status=400 if form.is_bound else 200)


def _site(request: HttpRequest) -> passkeys.Site:
    host, _ = split_domain_port(request.get_host())
    return passkeys.Site(rp_id=host, origin=f"{request.scheme}://{request.get_host()}")


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _credential(request: HttpRequest) -> tuple[str, str]:
    """The credential the page's script sent (as JSON text for py_webauthn) and the name typed."""
    try:
        sent = json.loads(request.body or b"{}")
    except ValueError:
        return "", ""
    if not isinstance(sent, dict) or not isinstance(sent.get("credential"), dict):
        return "", ""
    name = sent.get("name")
    return json.dumps(sent["credential"]), name if isinstance(name, str) else ""


@require_POST
def login_passkey_options(request: HttpRequest) -> HttpResponse:
    found = _pending_user(request)
    if found is None:
        return _json_error("Sign in again: the second step was not finished within 5 minutes.", 401)
    user, _ = found
    challenge = passkeys.authentication_options(
        site=_site(request), credential_ids=[p.credential_id for p in queries.passkeys(user)]
    )
    request.session[_SIGN_IN_CHALLENGE] = challenge.challenge
    return HttpResponse(challenge.options_json, content_type="application/json")


@require_POST
def login_passkey(request: HttpRequest) -> HttpResponse:
    found = _pending_user(request)
    challenge = request.session.pop(_SIGN_IN_CHALLENGE, "")
    if found is None or not challenge:
        return _json_error("Sign in again: the second step was not finished within 5 minutes.", 401)
    user, pending = found
    credential, _ = _credential(request)
    sent_id = passkeys.sent_credential_id(credential)
    passkey = next((p for p in queries.passkeys(user) if p.credential_id == sent_id), None)
    try:
        if passkey is None:
            raise passkeys.PasskeyError("That passkey is not one of this account's.")
        count = passkeys.verify_authentication(
            site=_site(request),
            challenge=challenge,
            credential=credential,
            public_key=bytes(passkey.public_key),
            sign_count=passkey.sign_count,
        )
    except passkeys.PasskeyError as error:
        services.login_failed(attempted_email=user.email)
        return _json_error(str(error))
    services.passkey_signed_in(passkey=passkey, sign_count=count)
    response = _finish_sign_in(
        request, user, backend=pending["backend"], next_url=pending["next"], second_factor="passkey"
    )
    return JsonResponse({"redirect": response["Location"]})


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
    context = {
        "factors": queries.factors(request.actor.user),
        "mfa_required_by": [m.clinic for m in request.memberships if m.clinic.require_staff_mfa],
        "can_change_factors": sessions.recently_reauthenticated(request.session) and not _second_step_missing(request),
        "second_factor_passed": sessions.has_second_factor(request.session),
        "api_tokens": queries.api_tokens(request.actor.user),
    }
    return render(request, "accounts/account.html", context)


# --- Changing sign-in factors -----------------------------------------------------------------
# Each change needs the password typed within the last 10 minutes (``reauthenticate``), so a
# session left open on a shared computer cannot add its own factor or remove the person's.

_TOTP_KEY = "mend_totp_key"
_NEW_CODES = "mend_new_recovery_codes"
_SIGN_IN_CHALLENGE = "mend_passkey_sign_in"
_REGISTER_CHALLENGE = "mend_passkey_register"


def _reauth_redirect(request: HttpRequest, back: str) -> HttpResponse:
    return redirect(f"{reverse('reauthenticate')}?{urlencode({'next': back})}")


_WITHOUT_SECOND_STEP = (
    "This session began without your second step: sign out, then sign in again with it to change how you sign in."
)


def _second_step_missing(request: HttpRequest) -> bool:
    """Whether this session never passed the second step its person now has (it began before the
    factor was added). The password alone must not change factors here: whoever has it could
    remove the person's app, or add their own and so make the session count as having passed."""
    user = request.user
    return (
        isinstance(user, User) and not sessions.has_second_factor(request.session) and queries.has_second_factor(user)
    )


def _refuse_without_second_step(request: HttpRequest) -> HttpResponse:
    messages.error(request, _WITHOUT_SECOND_STEP)
    return redirect("account")


@actor_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def reauthenticate(request: ActorRequest) -> HttpResponse:
    back = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("account")
    form = PasswordConfirmForm(request.POST or None, user=request.actor.user, request=request)
    if request.method == "POST" and form.is_valid():
        sessions.reauthenticated(request.session)
        return redirect(back)
    return render(
        request, "accounts/reauthenticate.html", {"form": form, "next": back}, status=400 if form.is_bound else 200
    )


def _enrolled(request: HttpRequest, enrolled: services.Enrolled) -> str:
    """After a factor is added: this session counts as passed it; new recovery codes are shown next."""
    sessions.second_factor_added(request.session, enrolled.kind)
    if enrolled.recovery_codes:
        request.session[_NEW_CODES] = enrolled.recovery_codes
        return reverse("recovery_codes")
    messages.success(request, "Added. You will be asked for it when you sign in.")
    return reverse("account")


@actor_required
@require_http_methods(["GET", "POST"])
def totp_enrol(request: ActorRequest) -> HttpResponse:
    """Add an authenticator app: scan the QR code (or type the key), then type the app's code."""
    if _second_step_missing(request):
        return _refuse_without_second_step(request)
    if not sessions.recently_reauthenticated(request.session):
        return _reauth_redirect(request, reverse("totp_enrol"))
    user = request.actor.user
    key = request.session.get(_TOTP_KEY)
    if not isinstance(key, str):
        key = random_hex(20)
        request.session[_TOTP_KEY] = key
    form = TotpEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolled = services.totp_enrol(
                user=user, key=key, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
            )
        except services.FactorError as error:
            form.add_error("code", str(error))
        else:
            request.session.pop(_TOTP_KEY, None)
            return redirect(_enrolled(request, enrolled))
    device = TOTPDevice(user=user, key=key, name="")
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_svg": mark_safe(qr.svg_inline(scale=5, light="#fff", border=4)),  # noqa: S308 — segno's own SVG of our URL
        "secret": " ".join(textwrap.wrap(b32encode(device.bin_key).decode(), 4)),
    }
    return render(request, "accounts/totp_enrol.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_POST
def passkey_register_options(request: ActorRequest) -> HttpResponse:
    if _second_step_missing(request):
        return _json_error(_WITHOUT_SECOND_STEP, 403)
    if not sessions.recently_reauthenticated(request.session):
        return _json_error("Confirm your password first.", 403)
    user = request.actor.user
    challenge = passkeys.registration_options(
        site=_site(request),
        user_id=user.pk,
        email=user.email,
        name=user.get_full_name(),
        existing=[p.credential_id for p in queries.passkeys(user)],
    )
    request.session[_REGISTER_CHALLENGE] = challenge.challenge
    return HttpResponse(challenge.options_json, content_type="application/json")


@actor_required
@require_POST
def passkey_register(request: ActorRequest) -> HttpResponse:
    challenge = request.session.pop(_REGISTER_CHALLENGE, "")
    if _second_step_missing(request):
        return _json_error(_WITHOUT_SECOND_STEP, 403)
    if not sessions.recently_reauthenticated(request.session) or not challenge:
        return _json_error("Confirm your password first.", 403)
    credential, name = _credential(request)
    try:
        verified = passkeys.verify_registration(site=_site(request), challenge=challenge, credential=credential)
        enrolled = services.passkey_enrol(user=request.actor.user, name=name, verified=verified)
    except (passkeys.PasskeyError, services.FactorError) as error:
        return _json_error(str(error))
    return JsonResponse({"redirect": _enrolled(request, enrolled)})


@actor_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: ActorRequest) -> HttpResponse:
    """New recovery codes, shown once: after a first factor is added, or on asking for new ones."""
    if request.method == "POST":
        if _second_step_missing(request):
            return _refuse_without_second_step(request)
        if not sessions.recently_reauthenticated(request.session):
            return _reauth_redirect(request, reverse("account"))
        if not queries.has_second_factor(request.actor.user):
            return redirect("account")
        request.session[_NEW_CODES] = services.recovery_codes_issue(user=request.actor.user)
        return redirect("recovery_codes")
    codes = request.session.pop(_NEW_CODES, None)
    if not isinstance(codes, list):
        return redirect("account")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@actor_required
@require_POST
def factor_remove(request: ActorRequest, kind: str, pk: int) -> HttpResponse:
    if _second_step_missing(request):
        return _refuse_without_second_step(request)
    if not sessions.recently_reauthenticated(request.session):
        return _reauth_redirect(request, reverse("account"))
    if not services.factor_remove(user=request.actor.user, kind=kind, pk=pk):
        sessions.second_factors_gone(request.session)
        messages.info(request, "Removed. Signing in now takes your password only.")
    else:
        messages.success(request, "Removed.")
    return redirect("account")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form: Any) -> HttpResponse:
        # As for factors: a session that never passed the person's second step changes nothing.
        if _second_step_missing(self.request):
            return _refuse_without_second_step(self.request)
        response = super().form_valid(form)
        services.password_changed(user=form.user)
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # Over the hourly limit nothing is sent, and the answer is the same page as when it is.
        if services.password_reset_request(email=form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_reset_completed(user=form.user)
        return response


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm = sensitive_post_parameters()(PasswordResetConfirmView.as_view())
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


# --- API tokens -------------------------------------------------------------------------------


@actor_required
@require_POST
def api_token_revoke(request: ActorRequest, pk: int) -> HttpResponse:
    """Revoke one of your own API tokens; it stops working at once."""
    token = queries.api_token_of(request.actor.user, pk)
    services.api_token_revoke(token=token, by=request.actor.user)
    messages.success(request, f"API token {token.prefix}… revoked: it no longer works.")
    return redirect("account")


@actor_required
@require_http_methods(["GET"])
def member_detail(request: ActorRequest, pk: int) -> HttpResponse:
    """A member of the clinic as its owner sees them: role and sign-in factors, and the way to
    reset their second step."""
    actor = request.actor
    access.require_reset_second_step(actor)
    membership = clinic_queries.membership_or_404(actor, pk)
    context = {
        "membership": membership,
        "factors": queries.factors(membership.user),
        "is_self": membership.user_id == actor.user.pk,
    }
    return render(request, "accounts/member_detail.html", context)


@actor_required
@require_http_methods(["GET", "POST"])
def member_second_step_reset(request: ActorRequest, pk: int) -> HttpResponse:
    """Asks first (GET), resets on the confirming POST (``accounts.services.second_step_reset``)."""
    actor = request.actor
    access.require_reset_second_step(actor)
    membership = clinic_queries.membership_or_404(actor, pk)
    if membership.user_id == actor.user.pk:
        raise PermissionDenied("Change your own sign-in factors on your account page.")
    if request.method == "POST":
        services.second_step_reset(actor=actor, membership=membership)
        messages.success(
            request,
            f"{membership.user}'s second sign-in step was reset: they sign in with their password and "
            "add a factor again. They have been told by email.",
        )
        return redirect("member_detail", pk=membership.pk)
    return render(request, "accounts/member_second_step_reset.html", {"membership": membership})
