"""Writes to the outbox: schedule a message once, withdraw pending ones, deliver one exactly once."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from mend.outbox.models import OutboundMessage
from mend.platform.sms import send_sms
from mend.platform.tasks import enqueue_on_commit

Status = OutboundMessage.Status


@transaction.atomic
def message_schedule(
    *,
    key: str,
    channel: OutboundMessage.Channel,
    to: str,
    body: str,
    subject: str = "",
    send_after: datetime | None = None,
    html: str = "",
    attachments: Sequence[Mapping[str, str]] = (),
) -> OutboundMessage:
    """The message named ``key``, created and queued for delivery at ``send_after`` (now when None).

    Asking again with a key that exists returns that message as it is, whatever its state: a
    retried request or a second worker scheduling the same reminder sends nothing twice. A message
    meant to go out again under new terms (a rescheduled appointment) takes a new key.
    """
    if not key or not to or not body:
        raise ValueError("an outgoing message needs a key, a recipient and a body")
    if channel == OutboundMessage.Channel.EMAIL and not subject:
        raise ValueError("an email needs a subject")
    when = send_after or timezone.now()
    # get_or_create on a unique column: two callers racing on one key both get the one row (the
    # loser's insert fails on the constraint and it reads the winner's).
    message, created = OutboundMessage.objects.get_or_create(
        key=key,
        defaults={
            "channel": channel,
            "to": to,
            "subject": subject,
            "body": body,
            "send_after": when,
            "html": html,
            "attachments": [dict(part) for part in attachments],
        },
    )
    if created:
        from mend.outbox.tasks import deliver_message

        # A message for now goes straight onto the queue; RQ would park even a past run_after in
        # its scheduled registry until the scheduler's next look.
        task = deliver_message if send_after is None else deliver_message.using(run_after=send_after)
        enqueue_on_commit(task, message_id=message.pk)
    return message


def _attachment(part: Mapping[str, str]) -> MIMEBase:
    """A stored attachment as a MIME part: text with its content-type parameters kept (``method=REQUEST``),
    or binary (a PDF) stored as base64 under ``content_base64``."""
    if "content_base64" in part:
        _main, _, sub = part["mimetype"].partition("/")
        binary = MIMEApplication(base64.b64decode(part["content_base64"]), sub or "octet-stream")
        binary.add_header("Content-Disposition", "attachment", filename=part["filename"])
        return binary
    _main, _, rest = part["mimetype"].partition("/")
    subtype, *params = [p.strip() for p in rest.split(";")]
    mime = MIMEText(part["content"], subtype, "utf-8")
    for param in params:
        name, _, value = param.partition("=")
        if name and name != "charset":
            mime.set_param(name, value)
    mime.add_header("Content-Disposition", "attachment", filename=part["filename"])
    return mime


def message_withdraw(*, keys: Iterable[str]) -> int:
    """Withdraw the pending messages among ``keys`` (a cancelled appointment's reminders); how many were.

    One conditional update: a message a worker has already claimed is past withdrawing, and a
    withdrawn one is never claimed (delivery only claims pending messages).
    """
    return OutboundMessage.objects.filter(key__in=list(keys), status=Status.PENDING).update(status=Status.WITHDRAWN)


def message_deliver(*, message_id: int) -> str:
    """Send the message if it is still pending; its status afterwards.

    When is the queue's business (the task runs at ``send_after``): a worker whose clock runs a
    little ahead sends a little early rather than never.

    The claim is one conditional UPDATE, committed before anything is sent: of two workers (or a
    task run twice) exactly one moves the row from pending to sending and sends; the other sends
    nothing. A crash after the claim leaves the message "sending" and it is not sent again by
    itself: a reminder missed is better than a reminder sent twice, and the row says which one.
    """
    claimed = OutboundMessage.objects.filter(pk=message_id, status=Status.PENDING)
    if not claimed.update(status=Status.SENDING):
        current = OutboundMessage.objects.filter(pk=message_id).values_list("status", flat=True).first()
        return current or "missing"
    message = OutboundMessage.objects.get(pk=message_id)
    try:
        if message.channel == OutboundMessage.Channel.SMS:
            send_sms(message.to, message.body)
        else:
            email = EmailMultiAlternatives(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to])
            if message.html:
                email.attach_alternative(message.html, "text/html")
            for part in message.attachments:
                email.attach(_attachment(part))
            email.send()
    except Exception as error:
        OutboundMessage.objects.filter(pk=message_id).update(status=Status.FAILED, error=repr(error)[:2000])
        raise
    OutboundMessage.objects.filter(pk=message_id).update(status=Status.SENT, sent_at=timezone.now())
    return Status.SENT.value
