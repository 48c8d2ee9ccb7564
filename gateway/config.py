"""`llmspell.toml`: what the gateway serves and how. Parsed into pydantic models so a typo or a
wrong type is reported with its key path instead of being silently ignored."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from llmspell.runtime.guard import checked_rate
from llmspell.runtime.workflow import template
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .hooks_config import BuiltinHooksConfig, DeclaredHookConfig
from .knowledge_config import KnowledgeConfig
from .oauth_config import OAuthConfig
from .schedule_config import Schedule
from .stores_config import (
    POSTGRES_SCHEMES,
    A2AConfig,
    ClusterConfig,
    StateConfig,
    expanded,
)
from .tools_config import ToolsConfig

if TYPE_CHECKING:
    from llmspell.protocols.mcp.spec import ServerSpec

DEFAULT_FILE = "llmspell.toml"
DEFAULT_AGENT = {
    "name": "assistant",
    "model": "offline/demo",
    "description": (
        "A demo agent on the offline provider: answers locally, no API key needed, and uses the "
        "calculator for arithmetic."
    ),
    "tools": ["calculator"],
}


class ConfigError(ValueError):
    """The config file is missing, is not TOML, or does not match the schema."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    path: str = "/mcp"
    stateless: bool = False
    max_body: int = Field(default=4 * 1024 * 1024, gt=0, description="bytes; more gets 413")
    allowed_hosts: list[str] = []


class LimitsConfig(_Section):
    timeout: float = Field(default=30.0, ge=0, description="seconds per script call; 0: none")
    memory_mb: int = Field(default=256, gt=0)
    call_timeout: float = Field(default=0, ge=0)
    """Seconds any call may take when its caller gives no deadline; 0: none."""
    rate: Annotated[str | None, AfterValidator(checked_rate)] = None
    """Calls per identity, e.g. "100/minute" or "10/second"; more are refused (retry later)."""

    max_result_bytes: int = Field(default=0, ge=0)
    """A bigger result is refused with a clear error; 0: no cap."""


class JwtConfig(_Section):
    """Bearer JWTs, checked with authlib: signature, issuer, audience, expiry."""

    jwks_url: str | None = None
    public_key: str | None = None
    """A PEM public key, or the path of a PEM file (relative to the config file)."""
    secret: str | None = None
    """An HMAC secret (HS256), e.g. "${JWT_SECRET}"."""
    issuer: str | None = None
    audience: list[str] = []
    """Accepted `aud` values; default: this gateway's MCP URL (the resource) and its base URL."""
    authorization_servers: list[str] = []
    """Announced in the protected resource metadata (RFC 9728), so clients know where to log in."""


class ApiKeyConfig(_Section):
    key: str
    """The key itself, normally "${SOME_ENV}"; kept only as a SHA-256 digest."""
    scopes: list[str] = []


class AuthConfig(_Section):
    """Off unless a JWT verifier or an API key is configured. Binding to anything but
    loopback requires it (or `--insecure`)."""

    jwt: JwtConfig | None = None
    api_keys: dict[str, ApiKeyConfig] = {}
    required_scopes: list[str] = []
    """Scopes every request needs (403 insufficient_scope without them)."""

    @property
    def enabled(self) -> bool:
        return self.jwt is not None or bool(self.api_keys)


class PolicyRule(_Section):
    effect: Literal["allow", "deny"]
    components: list[str] = ["*"]
    """Component name globs (`fs.*`, `calculator`)."""
    subjects: list[str] = ["*"]
    """Identity subject globs (`key:ci`, `user@example.com`, `*`)."""
    scopes: list[str] = []
    """The rule applies only to identities holding all of these."""


class PolicyConfig(_Section):
    """Who may call what; the first matching rule decides, else `default`. Denied components
    are also left out of tools/list and the agent cards."""

    default: Literal["allow", "deny"] = "allow"
    rules: list[PolicyRule] = []


class TracingConfig(_Section):
    """OpenTelemetry spans (the `llmspell[otel]` extra), trace context passed to upstreams."""

    enabled: bool = False
    exporter: Literal["otlp", "console"] = "otlp"
    endpoint: str | None = None
    """OTLP/HTTP traces URL; default: the OTEL_EXPORTER_OTLP_* environment, else localhost."""
    service_name: str = "llmspell"


class LoggingConfig(_Section):
    format: Literal["text", "json"] = "text"
    """json: one JSON object per line, with the request id."""
    level: Literal["debug", "info", "warning", "error"] = "info"
    access: bool = False
    """One line per HTTP request: method, path, status, milliseconds, subject, request id."""


class FederationConfig(_Section):
    """How remote MCP servers (`mcpServers`) join the catalog."""

    separator: str = Field(default=".", min_length=1, max_length=3)
    """Between server and tool names: `github.create_issue`."""
    startup_wait: float = Field(default=5.0, ge=0)
    """Seconds start-up waits for upstreams; slower ones join the catalog when they are up."""


class RemoteAgentConfig(_Section):
    """A remote A2A agent joining the catalog as an agent component named by its key."""

    url: str
    headers: dict[str, str] = {}
    """e.g. `{ Authorization = "Bearer ${TOKEN}" }`; `${ENV}` is expanded."""


class ScriptConfig(_Section):
    """A script with arguments: `{ path = "tck.lua", args = ["${TIMEOUT:-2}"] }`."""

    path: str
    args: list[str] = []
    """The script's `ARGS`; `${ENV}` and `${ENV:-default}` are expanded, so a script reads
    only the variables its config names."""


class AgentConfig(BaseModel):
    """Passed to AgentSpec as it is, so the keys are the script API's (`model`, `tools`...)."""

    model_config = ConfigDict(extra="allow")
    name: str
    model: str | dict[str, Any]


class RetryConfig(_Section):
    max: int = Field(default=0, ge=0)
    """More attempts after the first."""
    backoff: float = Field(default=0.0, ge=0)
    """Seconds before the first retry, doubled each time."""


class StepConfig(_Section):
    """One step of a `[workflows.NAME]`: a catalog component and its arguments, whose strings
    may hold `${...}` templates (`${input.x}`, `${steps.NAME.text}`...)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    """How later steps and the output refer to it: `${steps.NAME.text}`."""
    tool: str | None = None
    agent: str | None = None
    workflow: str | None = None
    args: dict[str, Any] | str = {}
    """A table; for an agent also a string (its `text`)."""
    retry: RetryConfig = RetryConfig()
    timeout: float | None = Field(default=None, gt=0)
    on_error: Literal["fail", "continue"] = "fail"

    @property
    def target(self) -> str:
        return self.tool or self.agent or self.workflow or ""

    @model_validator(mode="after")
    def _one_target(self) -> StepConfig:
        if sum(t is not None for t in (self.tool, self.agent, self.workflow)) != 1:
            raise _invalid("step", [((), "give exactly one of tool, agent or workflow")])
        if isinstance(self.args, str) and self.agent is None:
            raise _invalid("step", [(("args",), "a table (a string is an agent's text)")])
        return self


_PARALLEL_ONLY = ("max_concurrency", "join", "fail_fast")
_LOOP_ONLY = ("over", "max_iterations")


class WorkflowConfig(_Section):
    """`[workflows.NAME]`: steps in sequence, in parallel (each step a branch), or in a loop
    over a list (`over`, with `${item}` and `${index}` in the steps)."""

    type: Literal["sequential", "parallel", "loop"] = "sequential"
    description: str = ""
    input_schema: dict[str, Any] | None = None
    steps: list[StepConfig] = Field(min_length=1)
    output: str | dict[str, Any] | None = None
    """What the workflow returns (a template); default the last step's result."""
    max_concurrency: int | None = Field(default=None, gt=0)
    join: Literal["all", "any"] = "all"
    fail_fast: bool = False
    over: str | None = None
    """The loop's list: one reference, e.g. "${input.items}"."""
    max_iterations: int = Field(default=100, gt=0)

    @field_validator("input_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from llmspell.runtime.schema import validator_for

            if value.get("type", "object") != "object":
                raise ValueError('a workflow takes an object: give type = "object"')
            validator_for(value)
        return value

    @model_validator(mode="after")
    def _references(self) -> WorkflowConfig:
        """Options that fit the type; step names unique; every template names what exists."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        for key in self.model_fields_set:
            owner = "parallel" if key in _PARALLEL_ONLY else "loop" if key in _LOOP_ONLY else None
            if owner is not None and owner != self.type:
                found.append(((key,), f'only for type = "{owner}"'))
        if self.type == "loop" and template.single(self.over) is None:
            found.append((("over",), 'a loop needs one reference to a list, e.g. "${input.items}"'))
        elif self.over is not None:
            found += [(("over",), p) for _, p in template.problems(self.over)]
        names: list[str] = []
        for i, step in enumerate(self.steps):
            if step.name in names:
                found.append((("steps", i, "name"), f"{step.name!r} is used by an earlier step"))
            before = names if self.type != "parallel" else []
            for path, problem in template.problems(
                step.args, steps=before, loop=self.type == "loop"
            ):
                found.append((_loc("steps", i, "args", path), problem))
            if step.name not in names:
                names.append(step.name)
        for path, problem in template.problems(self.output, steps=names):
            found.append((_loc("output", path), problem))
        if found:
            raise _invalid("workflow", found)
        return self


class GatewayConfig(_Section):
    name: str = "llmspell"
    instructions: str | None = None
    scripts: list[str | ScriptConfig] = []
    """Lua/JS files that define tools, agents, prompts and resources (a path, or a table with
    `path` and `args`)."""
    builtins: bool = True
    roots: list[str] = []
    """Directories file tools and agent images may use; default the config's directory."""
    tools: ToolsConfig = ToolsConfig()
    """`[tools]`: the built-in tools' sandbox (sizes, `process`, `network`, `environment`)."""
    agents: list[AgentConfig] = []
    http: HttpConfig = HttpConfig()
    limits: LimitsConfig = LimitsConfig()
    auth: AuthConfig = AuthConfig()
    policy: PolicyConfig = PolicyConfig()
    logging: LoggingConfig = LoggingConfig()
    tracing: TracingConfig = TracingConfig()
    federation: FederationConfig = FederationConfig()
    cluster: ClusterConfig = ClusterConfig()
    """`[cluster]`: what replicas share through Redis."""
    a2a: A2AConfig = A2AConfig()
    state: StateConfig = StateConfig()
    oauth: OAuthConfig = OAuthConfig()
    """`[oauth]`: the key sealing upstream OAuth tokens in the state store."""
    knowledge: KnowledgeConfig = KnowledgeConfig()  # [knowledge]: the RAG collections
    hooks: list[DeclaredHookConfig] = []
    """`[[hooks]] point, script | python, match, priority`: hooks declared in the config."""
    builtin_hooks: BuiltinHooksConfig = BuiltinHooksConfig()
    """`[builtin_hooks]`: cache, retry, logging, redact, usage."""
    a2a_agents: dict[str, RemoteAgentConfig] = {}
    workflows: dict[str, WorkflowConfig] = {}
    """Declared workflows, served like any other: as MCP tools, A2A agents, script calls."""
    schedule: Schedule = []
    """`[[schedule]]`: jobs `llmspell serve` runs on a clock (gateway/schedule_config.py)."""
    mcpServers: dict[str, dict[str, Any]] = {}  # the key IDE configs use
    """Remote MCP servers, in the `mcpServers` format of Claude Desktop, Cursor and VS Code."""
    mcp_servers_file: str | list[str] | None = None
    """An existing `mcp.json` (or several) to read servers from, e.g. `~/.cursor/mcp.json`."""
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    @model_validator(mode="after")
    def _no_cycles(self) -> GatewayConfig:
        """A config workflow that runs itself, directly or through others, would never end."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        for name, flow in self.workflows.items():
            for i, step in enumerate(flow.steps):
                if step.workflow is not None and name in self._reachable(step.workflow):
                    how = "itself" if step.workflow == name else f"{name!r} again"
                    found.append((("workflows", name, "steps", i, "workflow"), f"runs {how}"))
        if found:
            raise _invalid("config", found)
        return self

    def _reachable(self, start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name not in seen and name in self.workflows:
                seen.add(name)
                todo += [s.workflow for s in self.workflows[name].steps if s.workflow]
        return seen

    def add_servers_file(self, path: str) -> None:
        """`--mcp-config FILE`: read after the config's own files."""
        files = self.mcp_servers_file
        known = [files] if isinstance(files, str) else list(files or [])
        self.mcp_servers_file = [*known, str(Path(path).expanduser().resolve())]

    def server_specs(self) -> list[ServerSpec]:
        """Servers from `mcp_servers_file` (in order), then the inline `mcpServers`; a later
        entry with the same name wins. `${ENV}` is expanded in values."""
        files = self.mcp_servers_file
        paths = [files] if isinstance(files, str) else list(files or [])
        raw: dict[str, tuple[str, dict[str, Any]]] = {}
        for path in paths:
            file = self._resolve(path)
            for name, entry in read_servers_file(file).items():
                raw[name] = (str(file), entry)
        for name, entry in self.mcpServers.items():
            raw[name] = ("mcpServers", entry)
        if not raw:
            return []
        from llmspell.protocols.mcp.spec import SpecError, parse_spec

        specs = []
        for name, (origin, entry) in raw.items():
            where = f"{origin}: {name}" if origin != "mcpServers" else f"mcpServers.{name}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: a server is an object with command or url")
            try:
                spec = parse_spec(entry, name=name)
            except SpecError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            if spec.cwd is not None:
                spec.cwd = str(self._resolve(spec.cwd))
            specs.append(spec)
        return specs

    def script_entries(self) -> dict[Path, list[str]]:
        """Each script's resolved path and its arguments, `${ENV}` expanded."""
        entries: dict[Path, list[str]] = {}
        for script in self.scripts:
            if isinstance(script, str):
                entries[self._resolve(script)] = []
                continue
            args = script.args
            if any("${" in a for a in args):
                from llmspell.protocols.mcp.spec import expand_env

                try:
                    args = expand_env(args)
                except KeyError as exc:
                    raise ConfigError(
                        f"scripts: {script.path}: environment variable {exc} is not set"
                    ) from None
            entries[self._resolve(script.path)] = list(args)
        return entries

    def a2a_database(self) -> Path | str | None:
        """Where A2A tasks are kept: the SQLite file, the PostgreSQL URL, or None (memory)."""
        store = self.a2a.task_store
        if store.startswith(POSTGRES_SCHEMES):
            return expanded(store, "[a2a] task_store")
        return self._resolve(self.a2a.database) if store == "sqlite" else None

    def state_database(self) -> Path | None:
        """The state store's SQLite file; None for the memory and PostgreSQL backends."""
        return self._resolve(self.state.path) if self.state.backend == "sqlite" else None

    def state_target(self) -> Path | str | None:
        """Where the state store is: the SQLite file, the PostgreSQL URL, or None (memory)."""
        backend = self.state.backend
        if backend.startswith(POSTGRES_SCHEMES):
            return expanded(backend, "[state] backend")
        return self.state_database()

    def root_paths(self) -> list[Path]:
        return [self._resolve(r) for r in self.roots] or [self.base_dir]

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def _loc(*parts: str | int) -> tuple[str | int, ...]:
    """A key path from parts, some already dotted (`"text.0"`); an empty one is dropped."""
    return tuple(part for part in parts if part != "")


def _invalid(title: str, found: list[tuple[tuple[str | int, ...], str]]) -> ValidationError:
    """Problems at key paths below the model being validated; raised in a validator, pydantic
    puts the model's own path in front, so the message names the whole key path."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("config", "{problem}", {"problem": problem}),
                loc=loc,
                input=None,
            )
            for loc, problem in found
        ],
    )


def read_servers_file(file: Path) -> dict[str, Any]:
    """An IDE's MCP config as it is: `{"mcpServers": {...}}` (Claude Desktop, Cursor) or
    `{"servers": {...}}` (VS Code)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"MCP servers file {str(file)!r} not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid JSON: {exc}") from None
    servers = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError(f'{file}: expected an object with "mcpServers" (or "servers")')
    return servers


def default() -> GatewayConfig:
    """No config file: the built-in tools and the offline demo agent."""
    return GatewayConfig(agents=[AgentConfig.model_validate(DEFAULT_AGENT)])


def load(path: str | Path | None) -> GatewayConfig:
    """`path`, else `./llmspell.toml` when present, else the defaults."""
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return default()
        path = DEFAULT_FILE
    file = Path(path)
    if file.suffix == ".json":  # an IDE's mcp.json on its own: its servers plus the built-ins
        read_servers_file(file)
        return GatewayConfig(mcp_servers_file=str(file.resolve()), base_dir=file.resolve().parent)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(file)!r} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    try:
        return GatewayConfig.model_validate({**data, "base_dir": file.resolve().parent})
    except ValidationError as exc:
        # Imported on this error path only: a good config does not need the MCP package.
        from llmspell.protocols.mcp.spec import validation_problems

        raise ConfigError(f"{file}: {validation_problems(exc)}") from None
