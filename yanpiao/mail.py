"""Outgoing mail through SMTP; without an SMTP host (development) the mail goes to the log."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

log = logging.getLogger("yanpiao.mail")


@dataclass(frozen=True)
class MailSettings:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = ""
    sender: str = "Yanpiao <no-reply@localhost>"
    security: str = "starttls"  # "starttls", "ssl" or "none"
    timeout: float = 10.0


def compose(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="yanpiao")
    message.set_content(body)
    return message


def send_mail(settings: MailSettings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text mail; False (and the reason logged) when it could not be sent."""
    if not settings.host:
        # Written readably, not MIME-encoded, so a developer can follow the link in it; a
        # warning, so it shows with Python's default logging too.
        log.warning(
            "Mail not sent (no SMTP host set):\nTo: %s\nSubject: %s\n\n%s", to, subject, body
        )
        return True
    message = compose(settings, to, subject, body)
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("Mail to %s could not be sent through %s", to, settings.host)
        return False
    return True
