from __future__ import annotations

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "mend.outbox"
    label = "outbox"
    verbose_name = "Outgoing messages"
