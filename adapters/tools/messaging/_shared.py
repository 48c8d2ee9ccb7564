"""What the messaging tools share: one HTTP request through the policy's client, a provider's
refusal as a clear error, and every secret scrubbed from whatever text leaves a tool.

A secret (password, API key, token, webhook URL) is read from `[tools.NAME]` or the environment
at call time, used in one request, and never put in a result, a log record or an error: every
message built from a server's answer or an exception goes through `Secrets.scrub` first."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from llmspell.runtime import ErrorCode, LLMSpellError, Result

from ..env import ToolEnv

if TYPE_CHECKING:
    import httpx

REDACTED = "[redacted]"
TIMEOUT = 30.0
MAX_DETAIL = 500


class Secrets:
    """The secrets of one call, and their URL-encoded forms, to take out of any text."""

    def __init__(self, *values: str | None) -> None:
        self.values: list[str] = []
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        if not value or len(value) < 4:  # a short value would scrub ordinary words
            return
        forms = {value, quote(value, safe=""), quote(value)}
        if "://" in value:  # a URL that is a secret (a webhook): its path is one too
            path = urlsplit(value).path
            if len(path) > 8:
                forms.add(path)
        self.values.extend(sorted(forms - set(self.values), key=len, reverse=True))
        self.values.sort(key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, REDACTED)
        return text

    def scrub_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self.scrub(v) if isinstance(v, str) else v for k, v in data.items()}


class _Redacting(logging.Filter):
    """On the `httpx` logger, which logs each request's URL at INFO: a webhook URL is a secret,
    so while a call's secrets are in flight they are taken out of its records."""

    def __init__(self) -> None:
        super().__init__()
        self.active: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.active:
            message = record.getMessage()
            for value in sorted(self.active, key=len, reverse=True):
                message = message.replace(value, REDACTED)
            record.msg, record.args = message, None
        return True


_REDACTING = _Redacting()
logging.getLogger("httpx").addFilter(_REDACTING)


@contextlib.contextmanager
def _redacted(secrets: Secrets) -> Iterator[None]:
    _REDACTING.active.update(secrets.values)
    try:
        yield
    finally:
        _REDACTING.active.subtract(secrets.values)
        _REDACTING.active += Counter()  # drop the zero counts


def setting(env: ToolEnv, tool_name: str, key: str, default: Any = None) -> Any:
    value = env.settings_for(tool_name).get(key)
    return default if value is None or value == "" else value


def flag(env: ToolEnv, tool_name: str, key: str, default: bool) -> bool:
    value = setting(env, tool_name, key, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def not_configured(tool_name: str, message: str) -> LLMSpellError:
    return LLMSpellError(ErrorCode.NOT_CONFIGURED, f"{tool_name}: {message}")


def detail(text: str, secrets: Secrets) -> str:
    text = secrets.scrub(" ".join(text.split()))
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "..."


async def request(
    env: ToolEnv,
    tool_name: str,
    method: str,
    url: str,
    *,
    secrets: Secrets,
    follow: bool = False,
    seconds: float = TIMEOUT,
    **kwargs: Any,
) -> httpx.Response:
    """One request through the network policy's client. A refusal by the policy keeps its code;
    a connection failure is UNAVAILABLE; neither message carries a secret."""
    import httpx

    from ..sandbox import network  # httpx only when a call sends

    host = _host(url)
    try:
        with _redacted(secrets):
            async with network.client(
                env.sandbox.network, timeout=seconds, follow_redirects=follow
            ) as http:
                return await http.request(method, url, **kwargs)
    except LLMSpellError as exc:
        raise LLMSpellError(
            exc.code,
            f"{tool_name}: {secrets.scrub(exc.message)}",
            data=secrets.scrub_data(exc.data),
        ) from None
    except httpx.TimeoutException:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"{tool_name}: {host} did not answer within {seconds}s",
            data={"host": host},
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        reason = detail(str(exc), secrets) or type(exc).__name__
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"{tool_name}: cannot reach {host}: {reason}",
            data={"host": host},
        ) from None


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return parts.hostname or "the server"
    except ValueError:
        return "the server"


def provider_error(
    tool_name: str, provider: str, response: httpx.Response, reason: str, secrets: Secrets
) -> LLMSpellError:
    """The provider's refusal: its status and its own words (the 429 says when to retry)."""
    status = response.status_code
    said = detail(reason, secrets) or response.reason_phrase
    message = f"{tool_name}: {provider} answered {status} {response.reason_phrase}: {said}"
    data: dict[str, Any] = {"status": status, "provider": provider}
    if status == 429:
        retry = response.headers.get("retry-after", "")
        if retry.isdigit():
            data["retry_after"] = int(retry)
        return LLMSpellError(ErrorCode.RATE_LIMITED, message, data=data)
    return LLMSpellError(ErrorCode.PROVIDER_ERROR, message, data=data)


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


async def guarded(
    env: ToolEnv, tool_name: str, credentials: Sequence[tuple[str, str]], call: Awaitable[Result]
) -> Result:
    """A call with every configured secret of the tool kept out of whatever fails: an error the
    tool did not foresee would otherwise carry its exception's text into the pipeline's."""
    secrets = Secrets(*(env.credential(tool_name, key, variable) for key, variable in credentials))
    try:
        return await call
    except LLMSpellError as exc:
        message, data = secrets.scrub(exc.message), secrets.scrub_data(exc.data)
        if message == exc.message and data == exc.data:
            raise
        raise LLMSpellError(exc.code, message, data=data) from None
    except Exception as exc:
        reason = secrets.scrub(str(exc)) or type(exc).__name__
        raise LLMSpellError(
            ErrorCode.COMPONENT_FAILED,
            f"{tool_name} failed: {reason}",
            data={"exception": type(exc).__name__},
        ) from None
