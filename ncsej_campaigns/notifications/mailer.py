"""Mail transports: SMTP when ``MAIL_SERVER`` is set, else ``.eml`` files on disk."""

from __future__ import annotations

import contextlib
import contextvars
import os
import smtplib
import ssl
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path

from flask import current_app

from ncsej_campaigns.notifications.models import OutboxEmail


def build_message(email: OutboxEmail) -> Message:
    """The MIME message for an outbox row, built with the classic MIME classes: building and
    serializing ``EmailMessage``'s header objects took over half of a worker's time per
    email, four times what these take. Headers are one line each, encoded only when they are
    not ASCII."""
    config = current_app.config
    if email.body_html:
        message = MIMEMultipart("alternative")
        message.attach(MIMEText(email.body_text, "plain", "utf-8"))
        message.attach(MIMEText(email.body_html, "html", "utf-8"))
    else:
        message = MIMEText(email.body_text, "plain", "utf-8")
    message["Subject"] = _text_header(email.subject)
    sender_name, sender = parseaddr(config["MAIL_DEFAULT_SENDER"])
    message["From"] = _address(sender_name, sender)
    message["To"] = _address(_display_name(email.to_name), email.to_address)
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = email.message_id or make_msgid(f"outbox-{email.id}", domain=domain)
    message["X-Outbox-Id"] = str(email.id)
    message["Content-Language"] = email.locale
    return message


def _text_header(value: str) -> str | Header:
    value = " ".join(value.split())  # never a line break in a header
    return value if value.isascii() else Header(value, "utf-8")


def _address(name: str, address: str) -> str:
    name = " ".join(name.split())
    return formataddr((name, address), charset="utf-8") if name else address


# Python's header folding breaks a name of several words when one of them is longer than a
# line (an ASCII word over 77 characters): it writes an empty line inside the To: header, which
# ends the headers there. No real name has such a word; a typed one is cut to this length.
LONGEST_NAME_WORD = 60


def _display_name(name: str) -> str:
    return " ".join(word[:LONGEST_NAME_WORD] for word in (name or "").split())


def send_message(message: Message) -> None:
    config = current_app.config
    if config["MAIL_SERVER"]:
        _send_smtp(message, config)
    else:
        _write_file(message, Path(config["MAIL_FILE_DIR"]))


# The open SMTP connection of the current ``reused_connection()`` block, if any.
_shared: contextvars.ContextVar[list | None] = contextvars.ContextVar("smtp_shared",
                                                                     default=None)


@contextlib.contextmanager
def reused_connection():
    """Send every message inside the block over one SMTP connection (opened on first use,
    reopened after a failure), instead of one connection per message."""
    holder: list = []
    token = _shared.set(holder)
    try:
        yield
    finally:
        _shared.reset(token)
        for client in holder:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        client = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"]:
            client.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            client.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        client.close()
        raise
    return client


def _send_smtp(message: Message, config) -> None:
    holder = _shared.get()
    if holder is None:
        with _connect(config) as client:
            client.send_message(message)
        return
    if not holder:
        holder.append(_connect(config))
    try:
        holder[0].send_message(message)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError):
        # The connection may be unusable now: the next message opens a fresh one.
        with contextlib.suppress(Exception):
            holder.pop().close()
        raise


def _write_file(message: Message, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{message['X-Outbox-Id']}.eml"
    tmp = directory / f".{name}.tmp"
    tmp.write_bytes(bytes(message))
    os.replace(tmp, directory / name)  # readers never see half a message
