from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "View"
    SEARCH = "search", "Search"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    EXPORT = "export", "Export"
    PRINT = "print", "Print"
    LOGIN = "login", "Login"
    LOGOUT = "logout", "Logout"
    FAILED_LOGIN = "failed_login", "Failed login"


class AuditEvent(models.Model):
    """One read or write of client information. Append-only: triggers refuse UPDATE and DELETE.

    No health data is stored here: only who did what to which object, when and from where.
    Each row carries an HMAC over its fields and the previous row's HMAC, so any altered or
    removed row breaks the chain (``mend audit verify``).
    """

    # Identifiers are plain integers, not foreign keys: the log must outlive the rows it
    # describes, and deleting a user or client must never cascade into it.
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=20, blank=True)
    clinic_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    client_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hmac = models.CharField(max_length=64)
    hmac = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["clinic_id", "-at"], name="audit_clinic_time_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}"

    @property
    def role_label(self) -> str:
        from mend.clinics.models import Role  # the audit log outlives roles; unknown ones show raw

        return Role(self.role).label if self.role in Role.values else self.role
