from django.urls import path

from mend.accounts import views

urlpatterns = [
    path("", views.account, name="account"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("login/passkey/options/", views.login_passkey_options, name="login_passkey_options"),
    path("login/passkey/", views.login_passkey, name="login_passkey"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("confirm/", views.reauthenticate, name="reauthenticate"),
    path("mfa/app/", views.totp_enrol, name="totp_enrol"),
    path("mfa/passkeys/options/", views.passkey_register_options, name="passkey_register_options"),
    path("mfa/passkeys/", views.passkey_register, name="passkey_register"),
    path("mfa/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("mfa/app/<int:pk>/remove/", views.factor_remove, {"kind": "totp"}, name="totp_remove"),
    path("mfa/passkeys/<int:pk>/remove/", views.factor_remove, {"kind": "passkey"}, name="passkey_remove"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("password/reset/done/", views.password_reset_complete, name="password_reset_complete"),
]

# A member's page in clinic settings (mounted at /settings/members/): owners reset a member's second step there.
member_patterns = [
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/second-step/reset/", views.member_second_step_reset, name="member_second_step_reset"),
]
