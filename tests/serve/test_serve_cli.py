"""`llmspell serve` takes the gateway's options (one builder) plus `--grace`, and refuses a
config whose schedule is wrong, naming the job and the key."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from llmspell.gateway.cli import build_parser

from .conftest import env, write_config


def _options(command: str) -> set[str]:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = commands.choices[command]
    return {o for action in parser._actions for o in action.option_strings}


def test_serve_takes_every_gateway_option_and_grace() -> None:
    gateway, serve = _options("gateway"), _options("serve")
    assert gateway - {"--stdio"} <= serve
    assert {"--config", "--mcp-config", "--host", "--port", "--stateless", "--insecure"} <= serve
    assert {"--log-format", "--reload", "--quiet", "--grace"} <= serve


def test_a_bad_schedule_is_refused_naming_the_job(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[[schedule]]\nname = "nightly"\ncron = "61 * * * *"\ntool = "calculator"\n'
        'overlap = "sometimes"\n',
    )
    done = subprocess.run(
        [sys.executable, "-m", "llmspell", "serve", "--config", str(config), "--port", "0"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=60,
    )
    assert done.returncode == 1
    assert "schedule.nightly.cron: '61 * * * *' is not a cron expression" in done.stderr
    assert "schedule.nightly.overlap: Input should be 'skip' or 'queue'" in done.stderr
