"""Messages Mend sends later or in the background (reminders, offers, confirmations), each at most once.

A message is a row before it is a send: the row's unique ``key`` makes asking twice harmless, and
its status, moved from pending to sending in one conditional update, lets exactly one worker send it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboundMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # The caller's name for the message, e.g. "reminder:appointment-42:day-before": one row per key,
    # whoever asks and however often.
    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # An email's HTML alternative and attachments ([{"filename", "mimetype", "content"}], text only:
    # an appointment's .ics), so a confirmation sent later by a worker is the one sent at once.
    html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    send_after = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [models.Index(fields=["status", "send_after"], name="outbox_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.key} ({self.status})"
