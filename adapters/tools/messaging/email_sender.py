"""`email-sender`: one message to a few recipients, with text, HTML and attachments, through the
provider the operator chose in `[tools.email-sender]`:

    provider = "smtp"      # host, port, starttls, use_tls, username, password, ca_file
    provider = "sendgrid"  # api_key (or SENDGRID_API_KEY), url
    provider = "ses"       # region, access_key_id, secret_access_key (or the AWS_* variables)
    from = "Reports <reports@example.com>"

The sender and every credential come from there (or the environment), never from a call. The
SMTP host is checked by the network policy and the connection goes to the checked address."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, input_bytes, need, refuse, tool
from ..env import ToolEnv
from ._shared import (
    Secrets,
    flag,
    guarded,
    not_configured,
    setting,
)
from .email_providers import _sendgrid, _ses

if TYPE_CHECKING:
    import socket
    from email.message import EmailMessage


NAME = "email-sender"
PROVIDERS = ("smtp", "sendgrid", "ses")
MAX_RECIPIENTS = 50
SENDGRID_URL = "https://api.sendgrid.com"
_ADDRESS = re.compile(r'^[^@\s<>,;"]+@[^@\s<>,;"]+$')


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    sender: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    text: str | None
    html: str | None
    reply_to: str | None
    attachments: list[Attachment]

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.to, *self.cc, *self.bcc]))

    def message(self) -> EmailMessage:
        """The MIME message; Bcc recipients get it through the envelope only, never a header."""
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid, parseaddr

        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        if self.cc:
            msg["Cc"] = ", ".join(self.cc)
        if self.reply_to:
            msg["Reply-To"] = self.reply_to
        msg["Subject"] = self.subject
        msg["Date"] = formatdate(localtime=True)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or None
        msg["Message-ID"] = make_msgid(domain=domain)
        if self.text is not None:
            msg.set_content(self.text)
            if self.html is not None:
                msg.add_alternative(self.html, subtype="html")
        else:
            msg.set_content(self.html or "", subtype="html")
        for item in self.attachments:
            maintype, _, subtype = item.mime_type.partition("/")
            msg.add_attachment(
                item.data, maintype=maintype, subtype=subtype, filename=item.filename
            )
        return msg


def _addresses(args: dict[str, Any], key: str) -> list[str]:
    from email.utils import parseaddr

    found: list[str] = []
    given = args.get(key, [])
    for value in [given] if isinstance(given, str) else given:
        address = value.strip()
        bare = parseaddr(address)[1] if "<" in address else address
        if "\r" in address or "\n" in address or not _ADDRESS.match(bare):
            raise refuse(NAME, f"{key}: {value!r} is not an email address")
        found.append(address)
    return found


def _one_line(args: dict[str, Any], key: str) -> str:
    value = str(args.get(key, ""))
    if "\r" in value or "\n" in value:
        raise refuse(NAME, f"'{key}' must be one line")
    return value


async def _attachments(env: ToolEnv, items: list[dict[str, Any]]) -> list[Attachment]:
    import mimetypes

    roots = env.roots
    found: list[Attachment] = []
    total = 0
    for item in items:
        if ("path" in item) == ("data" in item):
            raise refuse(NAME, "each attachment takes 'path' or 'data' (with 'filename'), not both")
        filename = item.get("filename") or str(item.get("path", "")).replace("\\", "/")
        filename = filename.rsplit("/", 1)[-1]
        if not filename:
            raise refuse(NAME, "an attachment given as 'data' needs a 'filename'")
        if any(c in filename for c in '\r\n"/\\'):
            raise refuse(NAME, f"attachment filename {filename!r} has a forbidden character")
        data = await input_bytes(item, roots, NAME)
        total += len(data)
        if total > roots.max_read:
            raise refuse(NAME, f"the attachments are over the {roots.max_read}-byte limit")
        mime = item.get("mime_type") or mimetypes.guess_type(filename)[0]
        found.append(Attachment(filename, mime or "application/octet-stream", data))
    return found


async def _mail(env: ToolEnv, args: dict[str, Any]) -> Mail:
    sender = setting(env, NAME, "from")
    if not sender:
        raise not_configured(NAME, 'set the sender: [tools.email-sender] from = "you@example.com"')
    to, cc, bcc = (_addresses(args, key) for key in ("to", "cc", "bcc"))
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        raise refuse(NAME, f"at most {MAX_RECIPIENTS} recipients in all (to, cc, bcc)")
    if "text" not in args and "html" not in args:
        raise refuse(NAME, "give the body: 'text', 'html' or both")
    reply_to = _addresses(args, "reply_to")[0] if args.get("reply_to") else None
    return Mail(
        sender=str(sender),
        to=to,
        cc=cc,
        bcc=bcc,
        subject=_one_line(args, "subject"),
        text=args.get("text"),
        html=args.get("html"),
        reply_to=reply_to,
        attachments=await _attachments(env, args.get("attachments", [])),
    )


# -- SMTP --------------------------------------------------------------------------------------


async def _open(addresses: list[str], port: int, seconds: float) -> socket.socket:
    """A connected socket to one of the addresses the policy checked, in resolver order."""
    import socket

    loop = asyncio.get_running_loop()
    failure: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(seconds):
                await loop.sock_connect(sock, (address, port))
            return sock
        except TimeoutError:
            sock.close()
            failure = OSError(f"timed out after {seconds}s")
        except OSError as exc:
            sock.close()
            failure = exc
        except BaseException:  # cancelled: the socket goes with the call
            sock.close()
            raise
    assert failure is not None
    raise failure


async def _smtp(env: ToolEnv, mail: Mail) -> dict[str, Any]:
    from email.utils import parseaddr

    aiosmtplib = need("aiosmtplib", "messaging", NAME)
    from ..sandbox import network

    host = setting(env, NAME, "host")
    if not host:
        raise not_configured(NAME, 'set [tools.email-sender] host = "smtp.example.com"')
    use_tls = flag(env, NAME, "use_tls", False)
    starttls = flag(env, NAME, "starttls", not use_tls)
    if use_tls and starttls:
        raise not_configured(NAME, "use_tls (implicit TLS) and starttls cannot both be set")
    port = int(setting(env, NAME, "port", 465 if use_tls else 587 if starttls else 25))
    timeout = float(setting(env, NAME, "timeout", 30.0))
    username = setting(env, NAME, "username")
    password = env.credential(NAME, "password", "LLMSPELL_SMTP_PASSWORD")
    if username and not password:
        raise not_configured(
            NAME,
            "username is set but no password: set it in [tools.email-sender] password "
            "or LLMSPELL_SMTP_PASSWORD",
        )
    secrets = Secrets(password)
    where = f"{host}:{port}"
    try:
        addresses = await network.checked(env.sandbox.network, str(host), port)
    except LLMSpellError as exc:
        raise LLMSpellError(exc.code, f"{NAME}: {exc.message}", data=exc.data) from None
    try:
        sock = await _open(addresses, port, timeout)
    except OSError as exc:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"{NAME}: cannot connect to the SMTP server {where}: {exc.strerror or exc}",
            data={"host": host, "port": port},
        ) from None
    message = mail.message()
    try:
        client = aiosmtplib.SMTP(
            hostname=str(host),  # the certificate is checked for the name, not the address
            sock=sock,
            username=str(username) if username else None,
            password=password if username else None,
            use_tls=use_tls,
            start_tls=starttls,
            validate_certs=flag(env, NAME, "tls_verify", True),
            cert_bundle=setting(env, NAME, "ca_file"),
            timeout=timeout,
        )
    except BaseException:
        sock.close()
        raise
    # From here the socket is the connection's: its transport closes it (closing it under the
    # transport would free the descriptor while the event loop still watches it).
    try:
        async with client:
            refused, response = await client.send_message(
                message, sender=parseaddr(mail.sender)[1], recipients=mail.recipients
            )
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise _smtp_error(f"the SMTP server {where} refused the login", exc, secrets) from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        each = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        raise LLMSpellError(
            ErrorCode.PROVIDER_ERROR,
            f"{NAME}: the SMTP server {where} refused every recipient ({secrets.scrub(each)})",
        ) from None
    except aiosmtplib.SMTPSenderRefused as exc:
        raise _smtp_error(f"the SMTP server {where} refused the sender", exc, secrets) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _smtp_error(f"the SMTP server {where} refused the message", exc, secrets) from None
    except aiosmtplib.SMTPTimeoutError:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE, f"{NAME}: the SMTP server {where} did not answer in {timeout}s"
        ) from None
    except (aiosmtplib.SMTPException, OSError) as exc:  # TLS, disconnects, no STARTTLS offered
        reason = secrets.scrub(str(exc)) or type(exc).__name__
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE, f"{NAME}: SMTP with {where} failed: {reason}"
        ) from None
    return {
        "server_response": secrets.scrub(str(response)),
        "refused": {r: f"{e.code} {secrets.scrub(e.message)}" for r, e in refused.items()},
    }


def _smtp_error(what: str, exc: Any, secrets: Secrets) -> LLMSpellError:
    said = secrets.scrub(" ".join(str(exc.message).split()))
    return LLMSpellError(
        ErrorCode.PROVIDER_ERROR,
        f"{NAME}: {what}: {exc.code} {said}",
        data={"smtp_code": exc.code},
    )


# -- SendGrid ----------------------------------------------------------------------------------


SENDERS = {"smtp": _smtp, "sendgrid": _sendgrid, "ses": _ses}
CREDENTIALS = (
    ("password", "LLMSPELL_SMTP_PASSWORD"),
    ("api_key", "SENDGRID_API_KEY"),
    ("secret_access_key", "AWS_SECRET_ACCESS_KEY"),
    ("session_token", "AWS_SESSION_TOKEN"),
)


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        return await guarded(env, NAME, CREDENTIALS, send(args))

    async def send(args: dict[str, Any]) -> Result:
        provider = str(setting(env, NAME, "provider", "smtp")).lower()
        if provider not in SENDERS:
            raise not_configured(
                NAME, f"provider {provider!r} is not one of {', '.join(PROVIDERS)}"
            )
        mail = await _mail(env, args)
        sent = await SENDERS[provider](env, mail)
        data = {
            "sent": True,
            "provider": provider,
            "from": mail.sender,
            "recipients": len(mail.recipients),
            "attachments": [a.filename for a in mail.attachments],
            **sent,
        }
        refused = sent.get("refused") or {}
        note = f" ({len(refused)} refused: {', '.join(refused)})" if refused else ""
        text = (
            f"sent {mail.subject!r} to {len(mail.recipients) - len(refused)} "
            f"recipient(s) via {provider}{note}"
        )
        return answer(text, data)

    address_list = {
        "type": "array",
        "items": {"type": "string", "minLength": 3, "maxLength": 320},
        "maxItems": MAX_RECIPIENTS,
    }
    return tool(
        NAME,
        "Sends an email (plain text and/or HTML, with attachments from the allowed roots or "
        "base64 data) through the configured provider: SMTP, SendGrid or Amazon SES. The "
        "sender and credentials are the operator's ([tools.email-sender]).",
        {
            "to": address_list | {"minItems": 1, "description": "Recipients"},
            "cc": address_list | {"description": "Copied recipients (shown to all)"},
            "bcc": address_list | {"description": "Blind copies (in no header)"},
            "reply_to": {"type": "string", "minLength": 3, "maxLength": 320},
            "subject": {"type": "string", "maxLength": 998},
            "text": {"type": "string", "description": "The plain-text body"},
            "html": {"type": "string", "description": "The HTML body"},
            "attachments": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": "string",
                            "minLength": 1,
                            "description": "A file inside the allowed roots",
                        },
                        "data": {
                            "type": "string",
                            "contentEncoding": "base64",
                            "description": "The bytes, base64 (with 'filename')",
                        },
                        "filename": {"type": "string", "minLength": 1, "maxLength": 255},
                        "mime_type": {
                            "type": "string",
                            "pattern": r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$",
                            "description": "Default: guessed from the filename",
                        },
                    },
                    "additionalProperties": False,
                },
            },
        },
        handle,
        required=["to", "subject"],
        annotations=Annotations(
            read_only=False, destructive=False, idempotent=False, open_world=True
        ),
    )
