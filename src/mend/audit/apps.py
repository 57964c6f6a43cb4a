from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mend.audit"
    label = "audit"
