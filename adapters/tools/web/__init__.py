"""Web: see the tools below; every connection goes through the one outbound policy
(`sandbox/network.py`)."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import api_tester, crawler, monitor, scraper, search, url_analyzer, webhook_caller


def components(env: ToolEnv) -> list[Component]:
    return [
        # -- search, analysis, requests, webhooks -----------------------------------------------
        search.component(env),
        url_analyzer.component(env.sandbox.network),
        api_tester.component(env.sandbox.network),
        webhook_caller.component(env),
        # -- pages: scraping, monitoring, crawling ----------------------------------------------
        scraper.component(env),
        monitor.component(env),
        crawler.component(env),
    ]
