"""`[hooks]` in the config: built-ins turned on by the config act on a started gateway's
runtime, a Lua file declared at a point fires there, a Python entry point of the group
`llmspell.hooks` (from a distribution on sys.path) fires too, and a mistake is refused."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from llmspell.gateway.assembly import Mode, assemble
from llmspell.gateway.config import ConfigError, GatewayConfig, load
from llmspell.runtime import Invocation
from pydantic import ValidationError


def write_config(tmp_path: Path, body: str) -> GatewayConfig:
    path = tmp_path / "llmspell.toml"
    path.write_text('[state]\nbackend = "memory"\n' + textwrap.dedent(body), encoding="utf-8")
    return load(str(path))


async def calculate(assembly: Any, expression: str) -> str:
    inv = Invocation.create("calculator", {"expression": expression})
    return str((await assembly.runtime.pipeline.invoke(inv)).text)


async def test_a_declared_lua_hook_fires_at_its_point(tmp_path: Path) -> None:
    (tmp_path / "audit.lua").write_text(
        textwrap.dedent(
            """
            return function(ctx)
              if ctx.arguments.expression == "1 + 1" then
                return {action = "replace", result = "lua says " .. ctx.component}
              end
            end
            """
        ),
        encoding="utf-8",
    )
    config = write_config(
        tmp_path,
        """
        [[hooks]]
        point = "before_tool"
        script = "audit.lua"
        match = "calc*"
        """,
    )
    async with assemble(config, Mode.serve()) as assembly:
        assert await calculate(assembly, "1 + 1") == "lua says calculator"
        assert await calculate(assembly, "2 + 3") == "5"


async def test_a_declared_python_entry_point_hook_fires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "site"
    (dist / "fake_llmspell_hooks-0.1.dist-info").mkdir(parents=True)
    (dist / "fake_llmspell_hooks-0.1.dist-info" / "entry_points.txt").write_text(
        "[llmspell.hooks]\nstamp = fake_llmspell_hooks:stamp\n", encoding="utf-8"
    )
    (dist / "fake_llmspell_hooks.py").write_text(
        textwrap.dedent(
            """
            async def stamp(ctx):
                result = dict(ctx["result"])
                result["parts"] = [{"type": "text", "text": "stamped " + ctx["result"]["text"]}]
                return {"action": "modify", "result": result}
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(dist))
    config = write_config(
        tmp_path,
        """
        [[hooks]]
        point = "after_tool"
        python = "stamp"
        priority = "last"
        """,
    )
    async with assemble(config, Mode.serve()) as assembly:
        assert await calculate(assembly, "2 + 3") == "stamped 5"


async def test_builtins_from_the_config_act_on_the_gateway(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """
        [builtin_hooks]
        cache = true
        retry = { max = 1, backoff = 0.01 }
        logging = true
        """,
    )
    async with assemble(config, Mode.serve()) as assembly:
        assert await calculate(assembly, "6 * 7") == await calculate(assembly, "6 * 7") == "42"
        installed = assembly.builtin_hooks
        assert installed is not None and installed.cache is not None
        assert installed.cache.hits == 1 and installed.retry is not None
        assert installed.logging is not None and installed.usage is None


def test_an_unknown_entry_point_stops_the_start(tmp_path: Path) -> None:
    from llmspell.runtime import LLMSpellError

    config = write_config(tmp_path, '[[hooks]]\npoint = "after_tool"\npython = "nope"\n')

    async def start() -> None:
        async with assemble(config, Mode.serve()):
            pass

    import asyncio

    with pytest.raises(LLMSpellError, match="no entry point 'nope'"):
        asyncio.run(start())


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[[hooks]]\npoint = "before_nothing"\nscript = "a.lua"\n', "unknown hook point"),
        ('[[hooks]]\npoint = "before_tool"\n', "either script or python"),
        (
            '[[hooks]]\npoint = "before_tool"\nscript = "a.lua"\npython = "x"\n',
            "either script or python",
        ),
        ('[[hooks]]\npoint = "before_tool"\nscript = "a.lua"\npriority = "soon"\n', "use"),
        ("[builtin_hooks]\nredact = { patterns = ['(unclosed'] }\n", "not a regular expression"),
        ("[builtin_hooks]\ncache = { ttl = 0 }\n", "greater than 0"),
        ("[builtin_hooks]\ncahce = true\n", "cahce"),
    ],
)
def test_config_mistakes_are_refused(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises((ConfigError, ValidationError), match=says):
        write_config(tmp_path, body)
