"""The script API, described once. Every engine binds this same table of host functions, so Lua
and JavaScript see the same globals with the same behaviour; engines only marshal values.

One module per namespace binds its functions to a `ScriptHost` (tool, state, event, hook, json,
agent, prompt, resource, a2a, mcp, log, workflow, rag), `call` and `task` are the objects a
script's tool and agent handlers get, and `host` assembles the table. Values crossing the
boundary are plain: None, bool, int, float, str, bytes, list, dict, ScriptFunction handles for
functions the script hands over, and HostObjects whose number the host resolves through `Refs`.
"""

from .arguments import ScriptAPIError
from .host import ScriptHost
from .log import Writer, to_stderr, to_stdout
from .mcp import ScriptPeer

__all__ = [
    "ScriptAPIError",
    "ScriptHost",
    "ScriptPeer",
    "Writer",
    "to_stderr",
    "to_stdout",
]
