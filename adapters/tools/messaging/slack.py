"""`slack`: post a message through an incoming webhook or the Web API's `chat.postMessage`.

    [tools.slack]
    webhook_url = "https://hooks.slack.com/services/..."  # or LLMSPELL_SLACK_WEBHOOK_URL
    token = "xoxb-..."                                     # or SLACK_BOT_TOKEN
    channel = "#alerts"                                    # post_message's default channel
    api_url = "https://slack.com/api"                      # for tests and proxies

A webhook URL is a secret as much as a token is: neither is ever shown, in a result or an error.
"""

from __future__ import annotations

from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, refuse, tool
from ..env import ToolEnv
from ._shared import (
    Secrets,
    detail,
    guarded,
    json_body,
    not_configured,
    provider_error,
    request,
    setting,
)

NAME = "slack"
API_URL = "https://slack.com/api"
CREDENTIALS = (("webhook_url", "LLMSPELL_SLACK_WEBHOOK_URL"), ("token", "SLACK_BOT_TOKEN"))


def _payload(args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("text") and not args.get("blocks"):
        raise refuse(NAME, "give 'text', 'blocks' or both")
    payload: dict[str, Any] = {}
    for key in ("text", "blocks", "thread_ts", "unfurl_links"):
        if key in args:
            payload[key] = args[key]
    return payload


async def _webhook(env: ToolEnv, args: dict[str, Any]) -> Result:
    url = env.credential(NAME, "webhook_url", "LLMSPELL_SLACK_WEBHOOK_URL")
    if not url:
        raise not_configured(
            NAME, "set the webhook: [tools.slack] webhook_url or LLMSPELL_SLACK_WEBHOOK_URL"
        )
    secrets = Secrets(url)
    payload = _payload(args)
    payload.pop("thread_ts", None)  # a webhook posts to its own channel only
    response = await request(env, NAME, "POST", url, secrets=secrets, json=payload)
    if response.status_code != 200:  # Slack says why in plain text: invalid_payload, no_service
        raise provider_error(NAME, "Slack", response, response.text, secrets)
    return answer("posted to the webhook's channel", {"posted": True, "via": "webhook"})


async def _post_message(env: ToolEnv, args: dict[str, Any]) -> Result:
    token = env.credential(NAME, "token", "SLACK_BOT_TOKEN")
    if not token:
        raise not_configured(NAME, "set the bot token: [tools.slack] token or SLACK_BOT_TOKEN")
    channel = args.get("channel") or setting(env, NAME, "channel")
    if not channel:
        raise refuse(NAME, "give 'channel' (or set [tools.slack] channel)")
    secrets = Secrets(token)
    base = str(setting(env, NAME, "api_url", API_URL)).rstrip("/")
    response = await request(
        env,
        NAME,
        "POST",
        f"{base}/chat.postMessage",
        secrets=secrets,
        json={"channel": channel, **_payload(args)},
        headers={"Authorization": f"Bearer {token}"},
    )
    found = json_body(response)
    if response.status_code != 200 or not isinstance(found, dict):
        raise provider_error(NAME, "Slack", response, response.text, secrets)
    if not found.get("ok"):  # Slack's failures are 200s with ok: false and an error code
        error = detail(str(found.get("error") or "unknown_error"), secrets)
        raise LLMSpellError(
            ErrorCode.PROVIDER_ERROR,
            f"{NAME}: chat.postMessage to {channel} failed: {error}",
            data={"error": error, "channel": channel},
        )
    data = {
        "posted": True,
        "via": "chat.postMessage",
        "channel": found.get("channel"),
        "ts": found.get("ts"),
    }
    if found.get("warning"):
        data["warning"] = detail(str(found["warning"]), secrets)
    return answer(f"posted to {found.get('channel') or channel} (ts {found.get('ts')})", data)


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        send = _webhook if args["operation"] == "webhook" else _post_message
        return await guarded(env, NAME, CREDENTIALS, send(env, args))

    return tool(
        NAME,
        "Posts a Slack message: 'webhook' to the configured incoming webhook's channel, or "
        "'post_message' (chat.postMessage, with the configured bot token) to a channel or a "
        "thread. Text uses Slack's mrkdwn; 'blocks' are Block Kit blocks.",
        {
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": 40000,
                "description": "The message (the notification text when 'blocks' are given)",
            },
            "blocks": {
                "type": "array",
                "items": {"type": "object"},
                "maxItems": 50,
                "description": "Block Kit blocks",
            },
            "channel": {
                "type": "string",
                "minLength": 1,
                "description": "post_message: channel ID or name (default: [tools.slack] channel)",
            },
            "thread_ts": {"type": "string", "description": "post_message: reply in this thread"},
            "unfurl_links": {"type": "boolean"},
        },
        handle,
        operations={"webhook": [], "post_message": []},
        annotations=Annotations(
            read_only=False, destructive=False, idempotent=False, open_world=True
        ),
    )
