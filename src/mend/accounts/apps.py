from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mend.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from mend.accounts import sessions

        # Every way in (the sign-in pages, the admin's own, a test's force_login) starts the
        # session's idle and absolute clocks afresh; an old session's times never carry over.
        user_logged_in.connect(sessions.clocks_start, dispatch_uid="mend.accounts.sessions.clocks_start")
