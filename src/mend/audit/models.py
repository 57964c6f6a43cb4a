from __future__ import annotations

from django.db import models

from mend.platform.roles import Role


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
    Each clinic has its own chain: a row carries an HMAC over its fields and the HMAC of the
    previous row *of the same clinic*, so any altered or removed row breaks that clinic's chain
    (``mend audit verify``). Events with no clinic (a failed sign-in for an unknown email) form
    one more chain, with ``clinic_id`` NULL.
    """

    # Identifiers are plain integers, not foreign keys: the log must outlive the rows it
    # describes, and deleting a user or client must never cascade into it.
    # Position in its clinic's chain, from 1 with no gaps; unique per clinic (Meta.constraints).
    seq = models.BigIntegerField()
    at = models.DateTimeField(db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=20, blank=True)
    # No index of its own: the (clinic_id, seq) constraint's index leads with it.
    clinic_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    client_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # A content digest a caller records with the event (a signed note's seal); signed with the row.
    digest = models.CharField(max_length=128, blank=True, default="")
    prev_hmac = models.CharField(max_length=64)
    hmac = models.CharField(max_length=64)
    # Not a column: audit.queries.audit_log sets it on the events of the report's page.
    client_name: str

    class Meta:
        ordering = ["-seq"]
        constraints = [
            # One chain per clinic: the database refuses a fork even if the append lock were bypassed.
            # Their indexes also make "the newest row of clinic X" a single index lookup.
            models.UniqueConstraint(fields=["clinic_id", "seq"], name="audit_clinic_seq_uniq"),
            # A unique index treats NULLs as distinct (SQLite has no NULLS NOT DISTINCT), so the
            # no-clinic chain gets its own partial one.
            models.UniqueConstraint(
                fields=["seq"], condition=models.Q(clinic_id__isnull=True), name="audit_no_clinic_seq_uniq"
            ),
        ]
        indexes = [models.Index(fields=["clinic_id", "-at"], name="audit_clinic_time_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}"

    @property
    def role_label(self) -> str:
        # The audit log outlives roles: unknown ones show raw.
        return Role(self.role).label if self.role in Role.values else self.role
