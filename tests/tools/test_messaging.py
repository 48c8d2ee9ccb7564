"""Messaging tools against real servers on 127.0.0.1: an aiosmtpd SMTP server (AUTH, STARTTLS)
and small HTTP servers answering as SendGrid, Amazon SES, Slack and GitHub do, which record
every request so the tests check what was sent. Nothing reaches the internet."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.message
import hashlib
import hmac
import json
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.messaging import sigv4
from llmspell.runtime import ErrorCode, LLMSpellError, Result, Runtime
from llmspell.runtime.sandbox import FilePolicy, NetworkPolicy, Sandbox

# the plain-SMTP test server takes AUTH without TLS on purpose; aiosmtpd warns about it
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

VARIABLES = (
    "LLMSPELL_SMTP_PASSWORD",
    "SENDGRID_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "LLMSPELL_SLACK_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "GITHUB_TOKEN",
)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def runtime(
    tmp_path: Path, settings: dict[str, dict[str, Any]], *allow: str, private: bool = False
) -> Runtime:
    rt = Runtime()
    sandbox = Sandbox(
        files=FilePolicy(roots=(tmp_path,)),
        network=NetworkPolicy(allow=allow, allow_private=private),
    )
    register_builtins(rt.catalog, sandbox, settings=settings)
    return rt


def data_of(result: Result) -> Any:
    return next(p.data for p in result.parts if p.type == "data")


def text_of(result: Result) -> str:
    return "\n".join(p.text for p in result.parts if p.type == "text")


async def failure(rt: Runtime, name: str, **args: Any) -> LLMSpellError:
    with pytest.raises(LLMSpellError) as info:
        await rt.call(name, args)
    return info.value


# -- a recording HTTP server -------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return unquote(self.target.partition("?")[0])

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Http:
    respond: Callable[[Seen], Reply]
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def allow(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *lines = head.split("\r\n")
            method, target, _ = line.split(" ", 2)
            headers = {}
            for item in lines:
                if item:
                    key, _, value = item.partition(":")
                    headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            seen = Seen(method, target, headers, body)
            self.seen.append(seen)
            status, payload, extra = self.respond(seen)
            if isinstance(payload, bytes):
                content = payload
            elif isinstance(payload, str):
                content = payload.encode()
            else:
                content = json.dumps(payload).encode()
                extra = {"Content-Type": "application/json", **extra}
            heads = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            writer.write(
                f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n{heads}"
                f"Content-Length: {len(content)}\r\nConnection: close\r\n\r\n".encode()
                + content
            )
            await writer.drain()
        writer.close()


REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
}


@contextlib.asynccontextmanager
async def http_server(respond: Callable[[Seen], Reply]) -> AsyncIterator[Http]:
    server = Http(respond)
    listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server


# -- a real SMTP server (aiosmtpd) -------------------------------------------------------------

USER = "mailer"
PASSWORD = "smtp-pass-Q7x9-unique"


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def message(self) -> email.message.EmailMessage:
        raw = self.envelopes[-1].content
        parsed = email.message_from_bytes(raw, policy=email_policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def smtp_server(**kwargs: Any) -> Iterator[tuple[Inbox, int]]:
    import aiosmtpd.controller as controller_module

    inbox = Inbox()
    port = _free_port()
    controller = controller_module.Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_required=True,
        **kwargs,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_settings(port: int, **extra: Any) -> dict[str, dict[str, Any]]:
    return {
        "email-sender": {
            "provider": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "starttls": False,
            "username": USER,
            "password": PASSWORD,
            "from": "Reports <reports@example.com>",
            "timeout": 10,
        }
        | extra
    }


MAIL = {
    "to": ["alice@example.com"],
    "cc": ["Bob <bob@example.com>"],
    "bcc": ["carol@example.com"],
    "subject": "Quarterly numbers",
    "text": "Hello,\nthe numbers are attached.",
    "html": "<p>Hello, the numbers are <b>attached</b>.</p>",
}


async def test_smtp_delivers_to_every_recipient_with_attachments(tmp_path: Path) -> None:
    (tmp_path / "report.csv").write_text("q,revenue\n1,100\n")
    with smtp_server(auth_require_tls=False) as (inbox, port):
        rt = runtime(tmp_path, smtp_settings(port), f"127.0.0.1:{port}")
        attachments = [
            {"path": "report.csv"},
            {"data": base64.b64encode(b"\x89PNG fake").decode(), "filename": "chart.png"},
        ]
        result = await rt.call("email-sender", {**MAIL, "attachments": attachments})
    data = data_of(result)
    assert data["sent"] and data["provider"] == "smtp" and data["recipients"] == 3
    assert data["attachments"] == ["report.csv", "chart.png"] and data["refused"] == {}
    assert "3 recipient(s) via smtp" in text_of(result)

    envelope = inbox.envelopes[-1]
    assert envelope.mail_from == "reports@example.com"
    assert envelope.rcpt_tos == ["alice@example.com", "bob@example.com", "carol@example.com"]
    msg = inbox.message()
    assert msg["Subject"] == "Quarterly numbers"
    assert msg["From"] == "Reports <reports@example.com>"
    assert msg["To"] == "alice@example.com" and msg["Cc"] == "Bob <bob@example.com>"
    assert msg["Bcc"] is None  # a blind copy goes through the envelope only
    body = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert body is not None and "the numbers are attached" in body.get_content()
    assert html is not None and "<b>attached</b>" in html.get_content()
    found = {part.get_filename(): part for part in msg.iter_attachments()}
    assert found["report.csv"].get_content_type() == "text/csv"
    assert found["report.csv"].get_payload(decode=True) == b"q,revenue\n1,100\n"
    assert found["chart.png"].get_content_type() == "image/png"
    assert found["chart.png"].get_payload(decode=True) == b"\x89PNG fake"


async def test_smtp_wrong_password_is_the_servers_535(tmp_path: Path) -> None:
    with smtp_server(auth_require_tls=False) as (inbox, port):
        settings = smtp_settings(port, password="wrong-pass-Z3k8-unique")
        rt = runtime(tmp_path, settings, f"127.0.0.1:{port}")
        error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.PROVIDER_ERROR
    assert "refused the login: 535" in error.message
    assert "Authentication credentials invalid" in error.message
    assert "wrong-pass-Z3k8-unique" not in error.message
    assert error.data == {"smtp_code": 535}
    assert inbox.envelopes == []


async def test_smtp_host_is_checked_by_the_policy(tmp_path: Path) -> None:
    rt = runtime(tmp_path, smtp_settings(2525))  # no allow entry: loopback is private
    error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.DENIED
    assert "127.0.0.1 is a private address" in error.message
    assert error.message.startswith("email-sender: ")


async def test_smtp_insists_on_starttls_unless_told_otherwise(tmp_path: Path) -> None:
    with smtp_server(auth_require_tls=False) as (_, port):
        settings = smtp_settings(port)
        del settings["email-sender"]["starttls"]  # the default: STARTTLS required
        rt = runtime(tmp_path, settings, f"127.0.0.1:{port}")
        error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.UNAVAILABLE
    assert "STARTTLS" in error.message and PASSWORD not in error.message


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_smtp_starttls_with_a_verified_certificate(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    with smtp_server(tls_context=context, require_starttls=True) as (inbox, port):
        settings = smtp_settings(port, starttls=True, ca_file=str(cert_file), host="localhost")
        rt = runtime(tmp_path, settings, f"localhost:{port}")
        result = await rt.call(
            "email-sender", {"to": ["a@example.com"], "subject": "over TLS", "text": "sealed"}
        )
        assert data_of(result)["sent"]
        assert inbox.message()["Subject"] == "over TLS"

        # the same server, with the certificate not trusted: refused, never sent in the clear
        settings = smtp_settings(port, starttls=True, host="localhost")
        rt = runtime(tmp_path, settings, f"localhost:{port}")
        error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.UNAVAILABLE, error.message
    assert "CERTIFICATE_VERIFY_FAILED" in error.message or "certificate" in error.message
    assert len(inbox.envelopes) == 1


async def test_email_arguments_are_checked(tmp_path: Path) -> None:
    rt = runtime(tmp_path, smtp_settings(2525), "127.0.0.1:2525")
    error = await failure(rt, "email-sender", to=["not-an-address"], subject="x", text="y")
    assert "'not-an-address' is not an email address" in error.message
    error = await failure(rt, "email-sender", to=["a@example.com"], subject="a\r\nBcc: x@y.z")
    assert error.code == ErrorCode.INVALID_ARGUMENTS
    error = await failure(rt, "email-sender", to=["a@example.com"], subject="x")
    assert "give the body" in error.message
    error = await failure(
        rt,
        "email-sender",
        to=["a@example.com"],
        subject="x",
        text="y",
        attachments=[{"path": "../../etc/passwd"}],
    )
    assert error.code == ErrorCode.DENIED and "outside the allowed roots" in error.message
    error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", password="p")
    assert error.code == ErrorCode.INVALID_ARGUMENTS  # credentials are never arguments
    unset = runtime(tmp_path, {})
    error = await failure(unset, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.NOT_CONFIGURED and "from" in error.message


# -- SendGrid ----------------------------------------------------------------------------------

SENDGRID_KEY = "SG.sendgrid-key-M4p2-unique"


async def test_sendgrid_posts_the_v3_body(tmp_path: Path) -> None:
    async with http_server(lambda seen: (202, b"", {"X-Message-Id": "msg-123"})) as server:
        settings = {
            "email-sender": {
                "provider": "sendgrid",
                "api_key": SENDGRID_KEY,
                "url": server.url,
                "from": "Reports <reports@example.com>",
            }
        }
        rt = runtime(tmp_path, settings, server.allow)
        attachment = {"data": base64.b64encode(b"a,b\n").decode(), "filename": "t.csv"}
        result = await rt.call(
            "email-sender", {**MAIL, "attachments": [attachment], "reply_to": "help@example.com"}
        )
    assert data_of(result)["message_id"] == "msg-123"
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("POST", "/v3/mail/send")
    assert seen.headers["authorization"] == f"Bearer {SENDGRID_KEY}"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "personalizations": [
            {
                "to": [{"email": "alice@example.com"}],
                "cc": [{"email": "bob@example.com", "name": "Bob"}],
                "bcc": [{"email": "carol@example.com"}],
            }
        ],
        "from": {"email": "reports@example.com", "name": "Reports"},
        "reply_to": {"email": "help@example.com"},
        "subject": "Quarterly numbers",
        "content": [
            {"type": "text/plain", "value": MAIL["text"]},
            {"type": "text/html", "value": MAIL["html"]},
        ],
        "attachments": [
            {
                "content": base64.b64encode(b"a,b\n").decode(),
                "type": "text/csv",
                "filename": "t.csv",
                "disposition": "attachment",
            }
        ],
    }


async def test_sendgrid_errors_are_sendgrids_words(tmp_path: Path) -> None:
    body = {"errors": [{"message": "The from address does not match", "field": "from"}]}
    async with http_server(lambda seen: (403, body, {})) as server:
        settings = {
            "email-sender": {"provider": "sendgrid", "url": server.url, "from": "r@example.com"}
        }
        rt = runtime(tmp_path, settings, server.allow)
        error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
        assert error.code == ErrorCode.NOT_CONFIGURED and "SENDGRID_API_KEY" in error.message
        settings["email-sender"]["api_key"] = SENDGRID_KEY
        rt = runtime(tmp_path, settings, server.allow)
        error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.PROVIDER_ERROR
    assert error.message == (
        "email-sender: SendGrid answered 403 Forbidden: The from address does not match (from)"
    )


# -- Amazon SES --------------------------------------------------------------------------------

AWS_KEY_ID = "AKIAUNIQUETESTKEY01"
AWS_SECRET = "aws-secret-W8r5-unique/abcdefghij"


def test_sigv4_matches_aws_documented_example() -> None:
    """The IAM ListUsers example of AWS's SigV4 documentation, and its signing key example."""
    key = sigv4.signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"
    )
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    headers = sigv4.sign(
        "GET",
        "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"",
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="iam",
        now=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


def _verify_sigv4(seen: Seen, region: str) -> None:
    """What SES does with the request: rebuild the canonical request from what arrived and
    recompute the signature with the secret key."""
    auth = seen.headers["authorization"]
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/ses/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        auth,
    )
    assert match, auth
    key_id, day, scope_region, signed_headers, signature = match.groups()
    assert (key_id, scope_region) == (AWS_KEY_ID, region)
    amz_date = seen.headers["x-amz-date"]
    assert re.fullmatch(r"\d{8}T\d{6}Z", amz_date) and amz_date[:8] == day
    moment = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)
    names = signed_headers.split(";")
    assert {"host", "x-amz-date", "content-type"} <= set(names) and names == sorted(names)
    canonical = "\n".join(
        [
            seen.method,
            seen.path,
            seen.query,
            "".join(f"{n}:{seen.headers[n].strip()}\n" for n in names),
            signed_headers,
            hashlib.sha256(seen.body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/ses/aws4_request"
    to_sign = (
        f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = f"AWS4{AWS_SECRET}".encode()
    for part in (day, region, "ses", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == signature


async def test_ses_sends_signed_simple_and_raw_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    answer = {"MessageId": "0100018f-ses-id"}
    async with http_server(lambda seen: (200, answer, {})) as server:
        settings = {
            "email-sender": {
                "provider": "ses",
                "region": "eu-west-1",
                "url": server.url,
                "from": "reports@example.com",
            }
        }
        rt = runtime(tmp_path, settings, server.allow)
        result = await rt.call("email-sender", MAIL)
        assert data_of(result)["message_id"] == "0100018f-ses-id"
        attachment = {"data": base64.b64encode(b"%PDF-1.4").decode(), "filename": "r.pdf"}
        await rt.call("email-sender", {**MAIL, "attachments": [attachment]})
    simple, raw = server.seen
    for seen in (simple, raw):
        assert (seen.method, seen.path) == ("POST", "/v2/email/outbound-emails")
        assert seen.headers["host"] == server.allow
        _verify_sigv4(seen, "eu-west-1")
        assert AWS_SECRET not in json.dumps(seen.headers) + seen.body.decode()
    assert simple.json() == {
        "FromEmailAddress": "reports@example.com",
        "Destination": {
            "ToAddresses": ["alice@example.com"],
            "CcAddresses": ["Bob <bob@example.com>"],
            "BccAddresses": ["carol@example.com"],
        },
        "Content": {
            "Simple": {
                "Subject": {"Data": "Quarterly numbers", "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": MAIL["text"], "Charset": "UTF-8"},
                    "Html": {"Data": MAIL["html"], "Charset": "UTF-8"},
                },
            }
        },
    }
    mime = email.message_from_bytes(
        base64.b64decode(raw.json()["Content"]["Raw"]["Data"]), policy=email_policy.default
    )
    assert mime["Subject"] == "Quarterly numbers" and mime["Bcc"] is None
    assert raw.json()["Destination"]["BccAddresses"] == ["carol@example.com"]
    (pdf,) = [p for p in mime.iter_attachments() if p.get_filename() == "r.pdf"]
    assert pdf.get_content_type() == "application/pdf"


async def test_ses_error_is_the_aws_message(tmp_path: Path) -> None:
    body = {"message": "Email address is not verified: reports@example.com"}
    headers = {"x-amzn-ErrorType": "MessageRejected:http://internal.amazon.com/"}
    async with http_server(lambda seen: (400, body, headers)) as server:
        settings = {
            "email-sender": {
                "provider": "ses",
                "region": "us-east-1",
                "url": server.url,
                "from": "reports@example.com",
                "access_key_id": AWS_KEY_ID,
                "secret_access_key": AWS_SECRET,
            }
        }
        rt = runtime(tmp_path, settings, server.allow)
        error = await failure(rt, "email-sender", to=["a@example.com"], subject="x", text="y")
    assert error.code == ErrorCode.PROVIDER_ERROR
    assert error.message.endswith(
        "Amazon SES answered 400 Bad Request: MessageRejected: "
        "Email address is not verified: reports@example.com"
    )


# -- Slack -------------------------------------------------------------------------------------

WEBHOOK_PATH = "/services/T0UNIQUE/B0UNIQUE/hookSecretV6n1"
SLACK_TOKEN = "xoxb-slack-token-R2d7-unique"


async def test_slack_webhook_posts_text_and_blocks(tmp_path: Path) -> None:
    async with http_server(lambda seen: (200, "ok", {})) as server:
        settings = {"slack": {"webhook_url": server.url + WEBHOOK_PATH}}
        rt = runtime(tmp_path, settings, server.allow)
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*deployed*"}}]
        result = await rt.call(
            "slack", {"operation": "webhook", "text": "deployed", "blocks": blocks}
        )
    assert data_of(result) == {"posted": True, "via": "webhook"}
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("POST", WEBHOOK_PATH)
    assert seen.json() == {"text": "deployed", "blocks": blocks}
    assert "authorization" not in seen.headers


async def test_slack_post_message_ok_and_not_ok(tmp_path: Path) -> None:
    def respond(seen: Seen) -> Reply:
        if seen.json()["channel"] == "#missing":
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        return 200, {"ok": True, "channel": "C024BE91L", "ts": "1712.0001"}, {}

    async with http_server(respond) as server:
        settings = {"slack": {"token": SLACK_TOKEN, "api_url": server.url, "channel": "#alerts"}}
        rt = runtime(tmp_path, settings, server.allow)
        result = await rt.call(
            "slack", {"operation": "post_message", "text": "hi", "thread_ts": "1711.0001"}
        )
        assert data_of(result) == {
            "posted": True,
            "via": "chat.postMessage",
            "channel": "C024BE91L",
            "ts": "1712.0001",
        }
        error = await failure(rt, "slack", operation="post_message", channel="#missing", text="x")
    assert error.code == ErrorCode.PROVIDER_ERROR
    assert error.message == "slack: chat.postMessage to #missing failed: channel_not_found"
    first = server.seen[0]
    assert (first.method, first.path) == ("POST", "/chat.postMessage")
    assert first.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"channel": "#alerts", "text": "hi", "thread_ts": "1711.0001"}


# -- GitHub ------------------------------------------------------------------------------------

GITHUB_TOKEN = "ghp_githubTokenK5v3unique"
ISSUE = {
    "number": 7,
    "title": "Crash on start",
    "state": "open",
    "user": {"login": "octocat"},
    "labels": [{"name": "bug"}],
    "assignees": [],
    "comments": 1,
    "html_url": "https://github.com/o/r/issues/7",
    "body": "It crashes.",
}


def github_reply(seen: Seen) -> Reply:
    if seen.headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
        return 401, {"message": "Bad credentials", "status": "401"}, {}
    route = (seen.method, seen.path)
    if route == ("GET", "/repos/octo/hello/issues"):
        return 200, [ISSUE, {**ISSUE, "number": 8, "pull_request": {}}], {}
    if route == ("POST", "/repos/octo/hello/issues"):
        return 201, {**ISSUE, "number": 9, **seen.json(), "labels": seen.json()["labels"]}, {}
    if route == ("POST", "/repos/octo/hello/issues/7/comments"):
        return 201, {"id": 42, "html_url": "https://github.com/o/r/issues/7#c42"}, {}
    if route == ("GET", "/repos/octo/hello/pulls/3"):
        pull = {"number": 3, "title": "Fix", "state": "open", "head": {"ref": "fix"}}
        return 200, pull | {"base": {"ref": "main"}, "merged": False}, {}
    if route == ("GET", "/repos/octo/hello/contents/docs/READ ME.md"):
        content = base64.encodebytes("# Hello\nwörld\n".encode()).decode()
        return 200, {"type": "file", "encoding": "base64", "content": content, "size": 15}, {}
    return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}, {}


async def test_github_issues_pulls_and_files(tmp_path: Path) -> None:
    async with http_server(github_reply) as server:
        settings = {"github": {"token": GITHUB_TOKEN, "api_url": server.url}}
        rt = runtime(tmp_path, settings, server.allow)
        repo = {"repo": "octo/hello"}
        listed = await rt.call(
            "github", {"operation": "list_issues", **repo, "state": "all", "labels": ["bug"]}
        )
        assert [i["number"] for i in data_of(listed)["issues"]] == [7, 8]
        assert data_of(listed)["issues"][1]["is_pull_request"] is True
        assert "#7 [open] Crash on start" in text_of(listed)
        created = await rt.call(
            "github",
            {"operation": "create_issue", **repo, "title": "New", "body": "b", "labels": ["x"]},
        )
        assert data_of(created)["number"] == 9 and data_of(created)["labels"] == ["x"]
        comment = await rt.call(
            "github", {"operation": "comment_issue", **repo, "number": 7, "body": "Thanks!"}
        )
        assert data_of(comment)["id"] == 42
        pull = await rt.call("github", {"operation": "get_pull", **repo, "number": 3})
        assert data_of(pull)["head"] == "fix" and data_of(pull)["base"] == "main"
        file = await rt.call(
            "github", {"operation": "read_file", **repo, "path": "docs/READ ME.md", "ref": "v1"}
        )
        assert data_of(file)["content"] == "# Hello\nwörld\n"
        missing = await failure(rt, "github", operation="get_issue", **repo, number=99)
    assert missing.code == ErrorCode.PROVIDER_ERROR
    assert missing.message == "github: GitHub answered 404 Not Found: Not Found"

    listing, create, post, get_pull, read = server.seen[:5]
    for seen in server.seen:
        assert seen.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
        assert seen.headers["accept"] == "application/vnd.github+json"
        assert seen.headers["x-github-api-version"] == "2022-11-28"
    assert listing.query == "state=all&labels=bug&per_page=30&page=1"
    assert create.json() == {"title": "New", "body": "b", "labels": ["x"]}
    assert (post.method, post.path, post.json()) == (
        "POST",
        "/repos/octo/hello/issues/7/comments",
        {"body": "Thanks!"},
    )
    assert get_pull.path == "/repos/octo/hello/pulls/3"
    assert read.target == "/repos/octo/hello/contents/docs/READ%20ME.md?ref=v1"


async def test_github_bad_credentials_and_repository_allow_list(tmp_path: Path) -> None:
    async with http_server(github_reply) as server:
        settings = {
            "github": {
                "token": "ghp_wrongTokenH9j4unique",
                "api_url": server.url,
                "repositories": ["octo/*"],
            }
        }
        rt = runtime(tmp_path, settings, server.allow)
        error = await failure(rt, "github", operation="list_pulls", repo="octo/hello")
        assert error.code == ErrorCode.PROVIDER_ERROR
        assert error.message == "github: GitHub answered 401 Unauthorized: Bad credentials"
        assert error.data == {"status": 401, "provider": "GitHub"}
        error = await failure(rt, "github", operation="list_pulls", repo="evil/repo")
        assert error.code == ErrorCode.DENIED and "octo/*" in error.message
        assert len(server.seen) == 1
        error = await failure(rt, "github", operation="get_issue", repo="octo/hello")
        assert error.code == ErrorCode.INVALID_ARGUMENTS and "number" in error.message


# -- annotations, and the credentials kept out of everything ----------------------------------


def test_messaging_tools_are_honest_writers(tmp_path: Path) -> None:
    rt = runtime(tmp_path, {})
    for name in ("email-sender", "slack", "github"):
        component = rt.catalog.get(name)
        assert component.category == "messaging"
        a = component.annotations
        assert (a.read_only, a.open_world, a.destructive) == (False, True, False)
        assert "password" not in json.dumps(component.input_schema)
        assert "token" not in component.input_schema["properties"]
    ops = rt.catalog.get("github").input_schema["properties"]["operation"]["enum"]
    assert ops == [
        "list_issues",
        "get_issue",
        "create_issue",
        "comment_issue",
        "list_pulls",
        "get_pull",
        "read_file",
    ]
    assert rt.catalog.get("slack").input_schema["properties"]["operation"]["enum"] == [
        "webhook",
        "post_message",
    ]


async def test_no_secret_appears_in_results_errors_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every call, failing and succeeding, with servers that echo the credentials back in their
    error messages: not one secret in what comes back or in any log record."""
    caplog.set_level(logging.DEBUG)
    secrets = [
        PASSWORD,
        "wrong-pass-Z3k8-unique",
        SENDGRID_KEY,
        AWS_SECRET,
        SLACK_TOKEN,
        WEBHOOK_PATH,
        GITHUB_TOKEN,
        "ghp_wrongTokenH9j4unique",
    ]
    seen_text: list[str] = []

    def echo(seen: Seen) -> Reply:  # a hostile or careless server repeats what it was sent
        said = f"rejected {seen.target} {seen.headers.get('authorization', '')}"
        if seen.path.startswith("/services/"):
            return (200, "ok", {}) if seen.json()["text"] == "ok" else (404, said, {})
        if seen.path == "/chat.postMessage":
            if seen.json()["text"] == "ok":
                return 200, {"ok": True, "channel": "C1", "ts": "1.2"}, {}
            return 200, {"ok": False, "error": said}, {}
        if seen.path.startswith("/repos/"):
            return github_reply(seen) if "wrong" not in said else (401, {"message": said}, {})
        if seen.path == "/v3/mail/send":
            return 401, {"errors": [{"message": said}]}, {}
        return 403, {"message": said}, {}

    async def attempt(rt: Runtime, name: str, **args: Any) -> None:
        try:
            result = await rt.call(name, args)
            seen_text.append(text_of(result) + json.dumps(data_of(result)))
        except LLMSpellError as exc:
            seen_text.append(str(exc) + json.dumps(exc.data) + repr(exc))

    mail = {"to": ["a@example.com"], "subject": "s", "text": "t"}
    with smtp_server(auth_require_tls=False) as (_, smtp_port):
        async with http_server(echo) as server:
            allow = (server.allow, f"127.0.0.1:{smtp_port}")
            for password in (PASSWORD, "wrong-pass-Z3k8-unique"):
                rt = runtime(tmp_path, smtp_settings(smtp_port, password=password), *allow)
                await attempt(rt, "email-sender", **mail)
            for provider, extra in (
                ("sendgrid", {"api_key": SENDGRID_KEY}),
                ("ses", {"access_key_id": AWS_KEY_ID, "secret_access_key": AWS_SECRET}),
            ):
                settings = {
                    "email-sender": {
                        "provider": provider,
                        "url": server.url,
                        "from": "r@example.com",
                        "region": "us-east-1",
                        **extra,
                    }
                }
                await attempt(runtime(tmp_path, settings, *allow), "email-sender", **mail)
            slack = {
                "slack": {
                    "webhook_url": server.url + WEBHOOK_PATH,
                    "token": SLACK_TOKEN,
                    "api_url": server.url,
                    "channel": "#c",
                }
            }
            rt = runtime(tmp_path, slack, *allow)
            for text in ("ok", "fail"):
                await attempt(rt, "slack", operation="webhook", text=text)
                await attempt(rt, "slack", operation="post_message", text=text)
            # the webhook's host refused by the policy, and a server that is gone
            await attempt(runtime(tmp_path, slack), "slack", operation="webhook", text="x")
            for token in (GITHUB_TOKEN, "ghp_wrongTokenH9j4unique"):
                github = {"github": {"token": token, "api_url": server.url}}
                rt = runtime(tmp_path, github, *allow)
                await attempt(rt, "github", operation="list_issues", repo="octo/hello")
                await attempt(rt, "github", operation="get_issue", repo="octo/hello", number=5)
    gone = runtime(tmp_path, slack, server.allow)
    await attempt(gone, "slack", operation="webhook", text="x")
    await attempt(gone, "slack", operation="post_message", text="x")

    assert len(seen_text) == 15
    assert any("[redacted]" in text for text in seen_text)  # the echoes were there, scrubbed
    assert any("refused the login: 535" in text for text in seen_text)
    assert any("cannot reach 127.0.0.1" in text for text in seen_text)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "HTTP Request: POST" in logged  # httpx did log each request's URL...
    for secret in secrets:
        for text in seen_text:
            assert secret not in text, (secret, text)
        assert secret not in logged, secret  # ...without the webhook's secret path
