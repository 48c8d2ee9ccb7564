"""`llmspell repl` in a real terminal (pexpect) and through a pipe: multi-line entries decided
by the engine's parser, completion, history across restarts, `.save` then `llmspell run`,
Ctrl-C stopping an entry while the session's variables survive, media results."""

from __future__ import annotations

import base64
import os
import re
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest
from mcpserver.conftest import ROOT, env

WAIT = 20


def _png(width: int, height: int) -> bytes:
    """A valid RGB PNG, written by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = base64.b64encode(_png(2, 3)).decode()


def _env(state: Path) -> dict[str, str]:
    return {
        **env(),
        "LLMSPELL_STATE_DIR": str(state),
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }


@contextmanager
def repl(state: Path, *args: str, cwd: Path | None = None) -> Iterator[pexpect.spawn]:
    """The REPL on a pseudo-terminal, killed when the test ends however it ends."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "llmspell", "repl", *args],
        env=_env(state),
        cwd=str(cwd or state),
        encoding="utf-8",
        timeout=WAIT,
        dimensions=(40, 200),
    )
    try:
        child.expect(r"\.help for commands")
        child.expect(r"\w+>")
        yield child
    finally:
        child.close(force=True)


def piped(state: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmspell", "repl", *args],
        input=text,
        capture_output=True,
        text=True,
        env=_env(state),
        cwd=state,
        timeout=60,
    )


def entry(child: pexpect.spawn, text: str) -> None:
    child.send(text + "\r")


def shows(child: pexpect.spawn, value: str) -> None:
    """`value` printed on a line of its own (after the prompt ends: a newline, or the escape
    that turns bracketed paste off, or the erase that clears a slow entry's "running" line),
    not inside the echo of what was typed."""
    child.expect(r"(?:\n|\x1b\[\?2004l|\r\x1b\[K)" + re.escape(value) + r"\r\n")


def test_multiline_lua_function_then_call(tmp_path: Path) -> None:
    with repl(tmp_path) as child:
        entry(child, "function twice(x)")
        child.expect(r"\.\.\.")  # the parser says: not finished
        entry(child, "  return x * 2")
        entry(child, "end")
        entry(child, "twice(21)")
        shows(child, "42")


def test_tab_completes_members_and_tool_names(tmp_path: Path) -> None:
    with repl(tmp_path) as child:
        child.send("Tool.ex\t")
        child.expect("ecute")  # the terminal is sent only what completion added
        child.send('("calc\t')
        child.expect("ulator")
        entry(child, '", {expression = "20 + 22"}).text')
        shows(child, "42")


def test_history_is_restored_after_a_restart(tmp_path: Path) -> None:
    with repl(tmp_path) as child:
        entry(child, "remembered = 6 * 7")
        entry(child, "remembered")
        shows(child, "42")
        child.expect(r"\w+>")  # the next prompt is reading raw keys (a cooked ^D is lost)
        child.sendeof()  # Ctrl-D
        child.expect(pexpect.EOF)
    assert "remembered = 6 * 7" in (tmp_path / "repl_history").read_text()
    with repl(tmp_path) as child:
        child.send("\x1b[A")  # up arrow: the previous session's entries, newest first
        child.expect("remembered")
        child.send("\x1b[A")
        child.expect("= 6 \\* 7")
        child.send("\r")
        entry(child, "remembered")
        shows(child, "42")


def test_save_writes_a_script_run_prints_the_same(tmp_path: Path) -> None:
    script = tmp_path / "session.lua"
    with repl(tmp_path) as child:
        entry(child, "local base = 40")
        entry(child, "local function add(x)")
        entry(child, "return base + x end")
        entry(child, "add(2)")
        shows(child, "42")
        entry(child, 'print("sum", add(1))')
        child.expect(r"sum\t41")
        entry(child, "nonsense(")  # incomplete, then an error: not saved
        entry(child, ")")
        child.expect("error:")
        entry(child, f".save {script}")
        child.expect("saved 4 entries")
    ran = subprocess.run(
        [sys.executable, "-m", "llmspell", "run", str(script)],
        capture_output=True,
        text=True,
        env=env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "42\nsum\t41\n"


def test_ctrl_c_stops_a_lua_busy_loop_and_keeps_variables(tmp_path: Path) -> None:
    with repl(tmp_path) as child:
        entry(child, "kept = 1234")
        entry(child, "kept")
        shows(child, "1234")
        entry(child, "while true do end")
        child.expect("running")  # the spinner
        child.sendintr()
        child.expect("interrupted")
        entry(child, "kept + 1")
        shows(child, "1235")


def test_ctrl_c_stops_a_lua_tool_call(tmp_path: Path) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text('[tools.process]\nallow = ["sleep"]\n')
    with repl(tmp_path, "--config", str(config)) as child:
        entry(child, "kept = 77")
        entry(child, 'Tool.execute("process-executor", {command = "sleep", args = {"30"}})')
        child.expect("running")
        child.sendintr()
        child.expect("interrupted")
        entry(child, "kept")
        shows(child, "77")


def test_javascript_multiline_and_ctrl_c(tmp_path: Path) -> None:
    with repl(tmp_path, "--engine", "javascript") as child:
        entry(child, "let kept = 5")
        entry(child, "function triple(x) {")
        child.expect(r"\.\.\.")
        entry(child, "  return x * 3")
        entry(child, "}")
        entry(child, "triple(kept + 9)")
        shows(child, "42")
        entry(child, "await sleep(30)")
        child.expect("running")
        child.sendintr()
        child.expect("interrupted")
        entry(child, "kept * 2")
        shows(child, "10")


def test_piped_input_javascript_declarations_persist(tmp_path: Path) -> None:
    text = (
        "const {a, b: c} = {a: 1, b: 2}\n"
        "let total = a + c\n"
        "class Box { constructor(v) { this.v = v } }\n"
        "new Box(total).v\n"
        'const r = await Tool.execute("calculator", {expression: "6 * 7"})\n'
        "r.text\n"
        "await State.set('k', 'v')\n"
        ".engine lua\n"
        "State.get('k')\n"
    )
    done = piped(tmp_path, text, "--engine", "javascript")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "3",
        "42",
        "engine: lua (State kept; variables start afresh)",
        "v",
    ]


def test_piped_streaming_and_media(tmp_path: Path) -> None:
    text = (
        'local echo = Agent.create{name = "echo", model = "offline/echo"}\n'
        'echo:stream({text = "one two"}, function(chunk) print("chunk:" .. chunk) end)\n'
        f'{{type = "image", mime_type = "image/png", data = "{PNG}"}}\n'
        f".show 1 {tmp_path / 'out.png'}\n"
    )
    done = piped(tmp_path, text)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("chunk:") for line in lines), done.stdout
    pillow = "2x3" if _has_pillow() else ""
    assert any(
        line.startswith("[media 1] image/png, ") and line.endswith(pillow) for line in lines
    ), done.stdout
    assert (tmp_path / "out.png").read_bytes() == base64.b64decode(PNG)


def _has_pillow() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("engine", ["lua", "javascript"])
def test_completion_candidates(tmp_path: Path, engine: str) -> None:
    """The completer's answers in a real session (no terminal): globals, members, names."""
    code = (
        "import asyncio, sys\n"
        "from llmspell.gateway.assembly import Mode, assemble\n"
        "from llmspell.gateway.repl.session import Session\n"
        "from llmspell.gateway.repl.completion import candidates\n"
        "async def main():\n"
        "    async with assemble(None, Mode.local()) as parts:\n"
        f"        s = Session(parts, {engine!r}, out=sys.stdout.write, err=sys.stderr.write)\n"
        "        await s.start()\n"
        "        await s.evaluate('myvalue = 1')\n"
        "        for text in ['Tool.ex', 'Tool.execute(\"calc', 'myv', '.he', 'State.']:\n"
        "            print(text, candidates(s, text))\n"
        "        await s.stop()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Tool.ex (2, ['execute'])" in out
    assert "Tool.execute(\"calc (4, ['calculator'])" in out
    assert "myv (3, ['myvalue'])" in out
    assert ".he (3, ['.help'])" in out
    assert "'get'" in out.split("State.", 1)[1]


if os.name == "nt":  # pragma: no cover
    pytestmark = pytest.mark.skip("pseudo-terminals")


def test_piped_load_clear_and_errors(tmp_path: Path) -> None:
    (tmp_path / "lib.lua").write_text("local loaded_value = 9\nfunction bump(x) return x + 1 end\n")
    text = (
        f".load {tmp_path / 'lib.lua'}\n"
        "bump(loaded_value)\n"
        "error('boom')\n"
        "loaded_value\n"
        ".clear\n"
        "loaded_value == nil\n"
    )
    done = piped(tmp_path, text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["10", "9", "cleared (State kept)", "true"]
    assert "boom" in done.stderr
