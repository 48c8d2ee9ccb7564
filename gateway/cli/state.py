"""`llmspell state backup|restore|export|import|get|set|keys|scopes`: the state store (the
config's `[state] path`, or `--file`) from outside, also while a gateway uses it.

Values go in and out as JSON; bytes are `{"$bytes": BASE64}` (the store's own tagged form, so a
one-key object whose key is a tag reads `{"$map": {...}}`). Export prints a list of
`{scope, key, value, expires_at}`, which import takes back, all or nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .common import Commands, error, show_help

if TYPE_CHECKING:
    from llmspell.runtime.state import StateStore

T = TypeVar("T")
SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_SCOPE = "global"


class _Refused(Exception):
    """A one-line reason the command cannot go on."""


def add(commands: Commands) -> None:
    state = commands.add_parser(
        "state",
        help="look at, back up, restore, export or import the state store",
        description="The state store scripts, agents and workflows use (the config's "
        "[state] path, default .llmspell/state.db next to it), or the SQLite file --file names.",
    )
    actions = state.add_subparsers(title="state commands", metavar="ACTION")

    def action(name: str, help: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        parser = actions.add_parser(name, help=help, description=help)
        parser.add_argument(
            "--config",
            metavar="FILE",
            help="llmspell.toml whose [state] path is the store (default ./llmspell.toml when "
            "present, else .llmspell/state.db here)",
        )
        parser.add_argument("--file", metavar="PATH", help="the state file itself (not --config)")
        parser.set_defaults(handler=handler)
        return parser

    def scoped(parser: argparse.ArgumentParser, default: str | None = DEFAULT_SCOPE) -> None:
        what = f"(default {default})" if default else "(default: every scope)"
        parser.add_argument("--scope", default=default, help=f"the scope {what}")

    backup = action(
        "backup", "copy the store to FILE (SQLite online backup; safe while it is in use)", _backup
    )
    backup.add_argument("target", metavar="FILE", help="where the copy goes")
    restore = action("restore", "replace the store's contents with a backup's", _restore)
    restore.add_argument("source", metavar="FILE", help="a file `llmspell state backup` made")
    export = action("export", 'print every live key as JSON (bytes as {"$bytes": BASE64})', _export)
    scoped(export, None)
    export.add_argument("--json", action="store_true", help="JSON (the only format, the default)")
    imports = action("import", "write the keys of an export back, all or nothing", _import)
    imports.add_argument("source", metavar="FILE.json", help="`llmspell state export` output")
    get = action("get", "print a key's value as JSON", _get)
    get.add_argument("key")
    scoped(get)
    put = action("set", "set a key (VALUE is JSON, else taken as a string)", _set)
    put.add_argument("key")
    put.add_argument("value")
    scoped(put)
    put.add_argument("--ttl", type=float, metavar="SECONDS", help="expire the key after this")
    keys = action("keys", "list a scope's keys, in order", _keys)
    keys.add_argument("prefix", nargs="?", default="", help="only keys starting with this")
    scoped(keys)
    action("scopes", "list the scopes that hold keys", _scopes)
    state.set_defaults(handler=show_help(state))


# -- which store --------------------------------------------------------------------------------


def store_path(ns: argparse.Namespace) -> Path | str:
    """`--file`, else the config's `[state]`: its SQLite file or PostgreSQL URL (`--config`,
    ./llmspell.toml, the default)."""
    if ns.file:
        if ns.config:
            raise _Refused("give --file or --config, not both")
        return Path(ns.file)
    from ..config import ConfigError, load

    try:
        config = load(ns.config)
        target = config.state_target()
    except ConfigError as exc:
        raise _Refused(str(exc)) from None
    if target is None:
        where = ns.config or "the config"
        raise _Refused(f'{where}: [state] backend is "memory": there is no state file')
    return target


def _existing(target: Path | str) -> Path | str:
    if isinstance(target, Path) and not target.is_file():
        raise _Refused(f"no state store at {target}")
    return target


def _file(target: Path | str, what: str) -> Path:
    """Backup and restore copy a SQLite file; a PostgreSQL store has its own tools."""
    if isinstance(target, str):
        raise _Refused(f"{what} copies a SQLite file; back up a PostgreSQL store with pg_dump")
    return target


def _with_store(target: Path | str, body: Callable[[Any], Awaitable[T]]) -> T:
    from llmspell.adapters.state import store_at

    async def go() -> T:
        store = store_at(target)
        try:
            await store.open()
            return await body(store)
        finally:
            await store.aclose()

    return asyncio.run(go())


def _handled(fn: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], int]:
    """Runs an action; what it refuses, and the store's errors, are one line and exit 1."""

    def handler(ns: argparse.Namespace) -> int:
        from llmspell.runtime import LLMSpellError

        try:
            fn(ns)
        except _Refused as exc:
            return error(str(exc))
        except LLMSpellError as exc:
            return error(exc.message)
        except OSError as exc:
            return error(str(exc))
        return 0

    handler.__doc__ = fn.__doc__
    return handler


# -- values as JSON --------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A stored value as plain JSON data, bytes tagged (the store's codec)."""
    from llmspell.adapters.state import codec

    return json.loads(codec.encode(value))


def from_json(data: Any) -> Any:
    from llmspell.adapters.state import codec

    return codec.decode(json.dumps(data))


def _print_json(data: Any, end: str = "") -> None:
    """One line; unicode as itself when stdout can take it, else escaped."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True)
    print(text + end)


# -- the actions ---------------------------------------------------------------------------------


@_handled
def _backup(ns: argparse.Namespace) -> None:
    path = _file(_existing(store_path(ns)), "backup")
    _with_store(path, lambda store: store.backup(ns.target))
    print(f"backed up {path} to {ns.target}", file=sys.stderr)


@_handled
def _restore(ns: argparse.Namespace) -> None:
    source = Path(ns.source)
    if not source.is_file():
        raise _Refused(f"no backup file at {source}")
    with source.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise _Refused(f"{source} is not a state database")
    path = _file(store_path(ns), "restore")
    _with_store(path, lambda store: store.restore(source))
    print(f"restored {path} from {source}", file=sys.stderr)


@_handled
def _export(ns: argparse.Namespace) -> None:
    path = _existing(store_path(ns))
    entries = _with_store(path, lambda store: store.export(ns.scope))
    items = [
        {"scope": e.scope, "key": e.key, "value": to_json(e.value), "expires_at": e.expires_at}
        for e in entries
    ]
    if not items:
        print("[]")
        return
    print("[")  # one entry a line: greppable, and diffs of two exports read well
    for i, item in enumerate(items):
        _print_json(item, end="," if i < len(items) - 1 else "")
    print("]")


def read_entries(source: Path) -> list[Any]:
    """The entries of an export file; refuses a malformed one, naming the first bad item."""
    from llmspell.runtime.state import Entry

    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _Refused(f"no file at {source}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(f"{source}: not JSON: {exc}") from None
    if not isinstance(data, list):
        raise _Refused(f"{source}: expected a list of {{scope, key, value, expires_at}}")
    entries = []
    for i, item in enumerate(data):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("scope"), str)
            or not isinstance(item.get("key"), str)
            or "value" not in item
        ):
            raise _Refused(f"{source}: item {i} is not {{scope, key, value, expires_at}}")
        expires = item.get("expires_at")
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise _Refused(f"{source}: item {i}: expires_at must be a number or null")
        try:
            value = from_json(item["value"])
        except ValueError as exc:  # a malformed {"$bytes": ...}
            raise _Refused(f"{source}: item {i}: {exc}") from None
        entries.append(Entry(item["scope"], item["key"], value, expires))
    return entries


@_handled
def _import(ns: argparse.Namespace) -> None:
    entries = read_entries(Path(ns.source))
    path = store_path(ns)
    count = _with_store(path, lambda store: store.import_(entries))
    print(f"imported {count} key{'' if count == 1 else 's'} into {path}")


@_handled
def _get(ns: argparse.Namespace) -> None:
    path = _existing(store_path(ns))

    async def read(store: StateStore) -> tuple[bool, Any]:
        value = await store.get(ns.scope, ns.key)
        found = value is not None or ns.key in await store.keys(ns.scope, ns.key)
        return found, value

    found, value = _with_store(path, read)
    if not found:
        raise _Refused(f"no key {ns.key!r} in scope {ns.scope!r}")
    _print_json(to_json(value))


@_handled
def _set(ns: argparse.Namespace) -> None:
    try:
        value = from_json(json.loads(ns.value))
    except ValueError:
        value = ns.value
    path = store_path(ns)
    _with_store(path, lambda store: store.set(ns.scope, ns.key, value, ns.ttl))


@_handled
def _keys(ns: argparse.Namespace) -> None:
    path = _existing(store_path(ns))
    for key in _with_store(path, lambda store: store.keys(ns.scope, ns.prefix)):
        print(key)


@_handled
def _scopes(ns: argparse.Namespace) -> None:
    path = _existing(store_path(ns))
    for scope in _with_store(path, lambda store: store.scopes()):
        print(scope)
