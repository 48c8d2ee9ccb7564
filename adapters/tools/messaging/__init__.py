"""Messaging: email (SMTP, SendGrid, Amazon SES), Slack and GitHub. Every connection goes through
the one outbound policy (`sandbox/network.py`); credentials come from `[tools.NAME]` or the
environment, never from a call, and never appear in a result or an error."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import email_sender, github, slack


def components(env: ToolEnv) -> list[Component]:
    return [email_sender.component(env), slack.component(env), github.component(env)]
