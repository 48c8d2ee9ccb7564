"""The HTTP mail providers, SendGrid and Amazon SES (v2, signed with SigV4): a message built by
`email-sender` goes out through one of them."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from ..env import ToolEnv
from . import sigv4
from ._shared import (
    Secrets,
    json_body,
    not_configured,
    provider_error,
    request,
    setting,
)

if TYPE_CHECKING:
    from .email_sender import Mail

NAME = "email-sender"
PROVIDERS = ("smtp", "sendgrid", "ses")
MAX_RECIPIENTS = 50
SENDGRID_URL = "https://api.sendgrid.com"
_ADDRESS = re.compile(r'^[^@\s<>,;"]+@[^@\s<>,;"]+$')


def _party(address: str) -> dict[str, str]:
    from email.utils import parseaddr

    name, email = parseaddr(address)
    return {"email": email, "name": name} if name else {"email": email}


async def _sendgrid(env: ToolEnv, mail: Mail) -> dict[str, Any]:
    key = env.credential(NAME, "api_key", "SENDGRID_API_KEY")
    if not key:
        raise not_configured(
            NAME, "set the SendGrid key: [tools.email-sender] api_key or SENDGRID_API_KEY"
        )
    secrets = Secrets(key)
    personalization: dict[str, Any] = {"to": [_party(a) for a in mail.to]}
    for field, addresses in (("cc", mail.cc), ("bcc", mail.bcc)):
        if addresses:
            personalization[field] = [_party(a) for a in addresses]
    content = []
    if mail.text is not None:
        content.append({"type": "text/plain", "value": mail.text})
    if mail.html is not None:
        content.append({"type": "text/html", "value": mail.html})
    body: dict[str, Any] = {
        "personalizations": [personalization],
        "from": _party(mail.sender),
        "subject": mail.subject,
        "content": content,
    }
    if mail.reply_to:
        body["reply_to"] = _party(mail.reply_to)
    if mail.attachments:
        body["attachments"] = [
            {
                "content": base64.b64encode(a.data).decode(),
                "type": a.mime_type,
                "filename": a.filename,
                "disposition": "attachment",
            }
            for a in mail.attachments
        ]
    base = str(setting(env, NAME, "url", SENDGRID_URL)).rstrip("/")
    response = await request(
        env,
        NAME,
        "POST",
        f"{base}/v3/mail/send",
        secrets=secrets,
        json=body,
        headers={"Authorization": f"Bearer {key}"},
    )
    if response.status_code not in (200, 202):
        found = json_body(response)
        errors = found.get("errors") if isinstance(found, dict) else None
        reason = (
            "; ".join(
                str(e.get("message", "")) + (f" ({e['field']})" if e.get("field") else "")
                for e in errors
                if isinstance(e, dict)
            )
            if isinstance(errors, list)
            else response.text
        )
        raise provider_error(NAME, "SendGrid", response, reason, secrets)
    return {"message_id": response.headers.get("x-message-id")}


# -- Amazon SES (v2 SendEmail) -----------------------------------------------------------------


async def _ses(env: ToolEnv, mail: Mail) -> dict[str, Any]:
    import os

    region = setting(env, NAME, "region") or os.environ.get("AWS_REGION")
    region = region or os.environ.get("AWS_DEFAULT_REGION")
    access_key = env.credential(NAME, "access_key_id", "AWS_ACCESS_KEY_ID")
    secret_key = env.credential(NAME, "secret_access_key", "AWS_SECRET_ACCESS_KEY")
    token = env.credential(NAME, "session_token", "AWS_SESSION_TOKEN")
    if not (region and access_key and secret_key):
        raise not_configured(
            NAME,
            "SES needs region, access_key_id and secret_access_key in "
            "[tools.email-sender] (or AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
        )
    secrets = Secrets(secret_key, token, access_key)
    destination: dict[str, list[str]] = {"ToAddresses": mail.to}
    if mail.cc:
        destination["CcAddresses"] = mail.cc
    if mail.bcc:
        destination["BccAddresses"] = mail.bcc
    if mail.attachments:  # Simple content has no attachments: send the MIME message itself
        raw = mail.message().as_bytes()
        content: dict[str, Any] = {"Raw": {"Data": base64.b64encode(raw).decode()}}
    else:
        parts: dict[str, Any] = {}
        if mail.text is not None:
            parts["Text"] = {"Data": mail.text, "Charset": "UTF-8"}
        if mail.html is not None:
            parts["Html"] = {"Data": mail.html, "Charset": "UTF-8"}
        content = {"Simple": {"Subject": {"Data": mail.subject, "Charset": "UTF-8"}, "Body": parts}}
    body: dict[str, Any] = {
        "FromEmailAddress": mail.sender,
        "Destination": destination,
        "Content": content,
    }
    if mail.reply_to:
        body["ReplyToAddresses"] = [mail.reply_to]
    if setting(env, NAME, "configuration_set"):
        body["ConfigurationSetName"] = str(setting(env, NAME, "configuration_set"))
    payload = json.dumps(body).encode()
    base = str(setting(env, NAME, "url", f"https://email.{region}.amazonaws.com")).rstrip("/")
    url = f"{base}/v2/email/outbound-emails"
    headers = sigv4.sign(
        "POST",
        url,
        {"Content-Type": "application/json"},
        payload,
        access_key=access_key,
        secret_key=secret_key,
        region=str(region),
        service="ses",
        session_token=token,
    )
    response = await request(
        env, NAME, "POST", url, secrets=secrets, content=payload, headers=headers
    )
    found = json_body(response)
    if response.status_code != 200:
        reason = ""
        if isinstance(found, dict):
            reason = str(found.get("message") or found.get("Message") or "")
        kind = response.headers.get("x-amzn-errortype", "").split(":")[0]
        reason = f"{kind}: {reason}" if kind and reason else kind or reason or response.text
        raise provider_error(NAME, "Amazon SES", response, reason, secrets)
    return {"message_id": found.get("MessageId") if isinstance(found, dict) else None}
