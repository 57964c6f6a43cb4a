"""Text messages, sent through a backend chosen by setting, the way Django sends email.

``MEND_SMS_BACKEND`` names the backend class by dotted path, as ``EMAIL_BACKEND`` does for mail:

- ``mend.platform.sms.ConsoleBackend`` (the default): writes each message to standard output, so a
  clinic without a provider loses nothing silently and a developer sees what would have gone out;
- ``mend.platform.sms.LocmemBackend`` (the test profile's): keeps messages in ``mend.platform.sms.outbox``;
- a provider's backend: a subclass of :class:`BaseSmsBackend` whose ``send_messages`` talks to it.

:func:`send_sms` is all a caller needs. It sends now; sending at most once per reminder is the
caller's claim (a row moved from pending to sent in one conditional update), not the backend's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    """One text message: the number it goes to (E.164, ``+14165550123``) and its text."""

    to: str
    body: str


class BaseSmsBackend:
    """What every text-message backend offers: send a batch, say how many went out.

    ``fail_silently`` has Django's email meaning: a backend that would raise reports the message as
    not sent instead.
    """

    def __init__(self, *, fail_silently: bool = False) -> None:
        self.fail_silently = fail_silently

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        raise NotImplementedError("a text-message backend must define send_messages()")


class ConsoleBackend(BaseSmsBackend):
    """Writes each message to a stream (standard output by default) instead of sending it."""

    def __init__(self, *, fail_silently: bool = False, stream: TextIO | None = None) -> None:
        super().__init__(fail_silently=fail_silently)
        self.stream = stream
        self._lock = threading.Lock()

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        stream = self.stream or sys.stdout
        # One lock per backend, as Django's console email backend: messages from two threads
        # never interleave line by line.
        with self._lock:
            for message in messages:
                stream.write(f"SMS to {message.to}\n{message.body}\n{'-' * 79}\n")
            stream.flush()
        return len(messages)


outbox: list[SmsMessage] = []
"""What :class:`LocmemBackend` sent, oldest first (tests read it and clear it)."""


class LocmemBackend(BaseSmsBackend):
    """Keeps what it sends in :data:`outbox`, like Django's ``mail.outbox``, for tests."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_sms_backend(backend: str | None = None, *, fail_silently: bool = False) -> BaseSmsBackend:
    """An instance of the backend named (``MEND_SMS_BACKEND`` when none is)."""
    path = backend or settings.MEND_SMS_BACKEND
    backend_class = import_string(path)
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseSmsBackend)):
        raise TypeError(f"MEND_SMS_BACKEND must name a subclass of mend.platform.sms.BaseSmsBackend, not {path!r}")
    instance: BaseSmsBackend = backend_class(fail_silently=fail_silently)
    return instance


def send_sms(to: str, body: str, *, fail_silently: bool = False, backend: BaseSmsBackend | None = None) -> int:
    """Send one text message now; 1 when it went out, 0 when the backend failed silently."""
    if not to or not body:
        raise ValueError("a text message needs a number to go to and a text")
    connection = backend or get_sms_backend(fail_silently=fail_silently)
    return connection.send_messages([SmsMessage(to=to, body=body)])
