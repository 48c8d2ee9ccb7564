"""`github`: issues, pull requests and file contents over the REST API (v3), with the operator's
token:

    [tools.github]
    token = "github_pat_..."                  # or GITHUB_TOKEN
    api_url = "https://api.github.com"        # GitHub Enterprise: https://HOST/api/v3
    repositories = ["my-org/*"]               # optional: the only repositories it may touch

GitHub's own message is the error on a 4xx ("Not Found", "Bad credentials")."""

from __future__ import annotations

import base64
import binascii
import fnmatch
from typing import Any
from urllib.parse import quote

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, refuse, tool
from ..env import ToolEnv
from ._shared import Secrets, guarded, json_body, not_configured, provider_error, request, setting

NAME = "github"
API_URL = "https://api.github.com"
MAX_FILE = 1024 * 1024
REPO_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"

OPERATIONS = {
    "list_issues": ["repo"],
    "get_issue": ["repo", "number"],
    "create_issue": ["repo", "title"],
    "comment_issue": ["repo", "number", "body"],
    "list_pulls": ["repo"],
    "get_pull": ["repo", "number"],
    "read_file": ["repo", "path"],
}


def _issue(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": item.get("number"),
        "title": item.get("title"),
        "state": item.get("state"),
        "user": (item.get("user") or {}).get("login"),
        "labels": [
            label.get("name") if isinstance(label, dict) else label
            for label in item.get("labels") or []
        ],
        "assignees": [a.get("login") for a in item.get("assignees") or []],
        "comments": item.get("comments"),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "url": item.get("html_url"),
        "is_pull_request": "pull_request" in item,
        "body": item.get("body"),
    }


def _pull(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": item.get("number"),
        "title": item.get("title"),
        "state": item.get("state"),
        "draft": item.get("draft"),
        "merged": item.get("merged"),
        "user": (item.get("user") or {}).get("login"),
        "head": (item.get("head") or {}).get("ref"),
        "base": (item.get("base") or {}).get("ref"),
        "mergeable": item.get("mergeable"),
        "commits": item.get("commits"),
        "additions": item.get("additions"),
        "deletions": item.get("deletions"),
        "changed_files": item.get("changed_files"),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "url": item.get("html_url"),
        "body": item.get("body"),
    }


class GitHub:
    def __init__(self, env: ToolEnv) -> None:
        token = env.credential(NAME, "token", "GITHUB_TOKEN")
        if not token:
            raise not_configured(NAME, "set the token: [tools.github] token or GITHUB_TOKEN")
        self.env = env
        self.token = token
        self.secrets = Secrets(token)
        self.base = str(setting(env, NAME, "api_url", API_URL)).rstrip("/")

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Any:
        response = await request(
            self.env,
            NAME,
            method,
            self.base + path,
            secrets=self.secrets,
            follow=method == "GET",  # a renamed repository redirects; httpx drops the token
            params={k: v for k, v in (params or {}).items() if v is not None},  # across hosts
            json=json,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "llmspell",
            },
        )
        found = json_body(response)
        if response.status_code >= 400:
            reason = found.get("message", "") if isinstance(found, dict) else response.text
            if isinstance(found, dict) and isinstance(found.get("errors"), list):
                more = [
                    e.get("message") or f"{e.get('field')} {e.get('code')}"
                    for e in found["errors"]
                    if isinstance(e, dict)
                ]
                reason = f"{reason} ({'; '.join(str(m) for m in more)})" if more else reason
            if response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0":
                error = provider_error(NAME, "GitHub", response, reason, self.secrets)
                reset = response.headers.get("x-ratelimit-reset")
                data = error.data | ({"reset": int(reset)} if reset and reset.isdigit() else {})
                raise LLMSpellError(ErrorCode.RATE_LIMITED, error.message, data=data)
            raise provider_error(NAME, "GitHub", response, reason, self.secrets)
        return found


def _repo(env: ToolEnv, args: dict[str, Any]) -> str:
    repo = str(args["repo"])
    allowed = setting(env, NAME, "repositories")
    if allowed and not any(fnmatch.fnmatch(repo.lower(), p.lower()) for p in allowed):
        raise LLMSpellError(
            ErrorCode.DENIED,
            f"{NAME}: {repo} is not one of the repositories allowed in [tools.github] "
            f"repositories ({', '.join(allowed)})",
        )
    owner, name = repo.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


async def _run(env: ToolEnv, args: dict[str, Any]) -> Result:
    op = args["operation"]
    repo = args["repo"]
    base = _repo(env, args)
    gh = GitHub(env)
    page = {"per_page": args.get("per_page", 30), "page": args.get("page", 1)}
    if op == "list_issues":
        labels = ",".join(args.get("labels", [])) or None
        params = {"state": args.get("state", "open"), "labels": labels, **page}
        items = await gh.call("GET", f"{base}/issues", params=params)
        issues = [_issue(i) for i in items or []]
        lines = [f"#{i['number']} [{i['state']}] {i['title']}" for i in issues]
        text = f"{repo}: {len(issues)} issue(s)" + "".join(f"\n{line}" for line in lines)
        return answer(text, {"repo": repo, "issues": issues})
    if op == "list_pulls":
        params = {"state": args.get("state", "open"), **page}
        items = await gh.call("GET", f"{base}/pulls", params=params)
        pulls = [_pull(p) for p in items or []]
        lines = [f"#{p['number']} [{p['state']}] {p['title']} ({p['head']})" for p in pulls]
        text = f"{repo}: {len(pulls)} pull request(s)" + "".join(f"\n{line}" for line in lines)
        return answer(text, {"repo": repo, "pulls": pulls})
    if op == "get_issue":
        issue = _issue(await gh.call("GET", f"{base}/issues/{args['number']}"))
        return answer(f"{repo}#{issue['number']} [{issue['state']}] {issue['title']}", issue)
    if op == "get_pull":
        pull = _pull(await gh.call("GET", f"{base}/pulls/{args['number']}"))
        return answer(f"{repo}#{pull['number']} [{pull['state']}] {pull['title']}", pull)
    if op == "create_issue":
        body: dict[str, Any] = {
            k: args[k] for k in ("title", "body", "labels", "assignees") if k in args
        }
        issue = _issue(await gh.call("POST", f"{base}/issues", json=body))
        return answer(f"created {repo}#{issue['number']}: {issue['url']}", issue)
    if op == "comment_issue":
        found = await gh.call(
            "POST", f"{base}/issues/{args['number']}/comments", json={"body": args["body"]}
        )
        comment = {"id": found.get("id"), "url": found.get("html_url"), "number": args["number"]}
        return answer(f"commented on {repo}#{args['number']}: {comment['url']}", comment)
    return await _read_file(gh, base, repo, args)


async def _read_file(gh: GitHub, base: str, repo: str, args: dict[str, Any]) -> Result:
    path = str(args["path"]).strip("/")
    if not path or any(part in ("", ".", "..") for part in path.split("/")):
        raise refuse(NAME, f"{args['path']!r} is not a file path in the repository")
    found = await gh.call(
        "GET", f"{base}/contents/{quote(path, safe='/')}", params={"ref": args.get("ref")}
    )
    if isinstance(found, list):
        names = [f"{e.get('name')}{'/' if e.get('type') == 'dir' else ''}" for e in found]
        raise refuse(NAME, f"{path!r} is a directory: {', '.join(names)}")
    if not isinstance(found, dict) or found.get("type") != "file":
        kind = found.get("type") if isinstance(found, dict) else "unknown"
        raise refuse(NAME, f"{path!r} is a {kind}, not a file")
    size = int(found.get("size") or 0)
    if found.get("encoding") != "base64" or (not found.get("content") and size):
        raise refuse(NAME, f"{path!r} is {size} bytes, too large for the contents API")
    try:
        data = base64.b64decode(found.get("content") or "")
    except (binascii.Error, ValueError):
        raise LLMSpellError(
            ErrorCode.PROVIDER_ERROR, f"{NAME}: GitHub sent undecodable content for {path!r}"
        ) from None
    if len(data) > MAX_FILE:
        raise refuse(NAME, f"{path!r} is {len(data)} bytes, over the {MAX_FILE}-byte limit")
    result: dict[str, Any] = {
        "repo": repo,
        "path": found.get("path", path),
        "ref": args.get("ref"),
        "sha": found.get("sha"),
        "size": len(data),
        "url": found.get("html_url"),
    }
    try:
        result |= {"encoding": "utf-8", "content": data.decode()}
        shown = result["content"]
    except UnicodeDecodeError:
        result |= {"encoding": "base64", "content": base64.b64encode(data).decode()}
        shown = f"({len(data)} bytes of binary content, base64 in the data part)"
    return answer(f"{repo}/{result['path']} ({len(data)} bytes)\n{shown}", result)


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        return await guarded(env, NAME, [("token", "GITHUB_TOKEN")], _run(env, args))

    return tool(
        NAME,
        "GitHub over its REST API with the configured token: list, read, open and comment on "
        "issues; list and read pull requests; read a file of a repository at a ref.",
        {
            "repo": {
                "type": "string",
                "pattern": REPO_PATTERN,
                "description": "The repository, owner/name",
            },
            "number": {"type": "integer", "minimum": 1, "description": "Issue or PR number"},
            "title": {"type": "string", "minLength": 1, "maxLength": 256},
            "body": {"type": "string", "maxLength": 65536, "description": "Markdown"},
            "labels": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "assignees": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
            "page": {"type": "integer", "minimum": 1, "default": 1},
            "path": {"type": "string", "minLength": 1, "description": "read_file: the file"},
            "ref": {
                "type": "string",
                "minLength": 1,
                "description": "read_file: branch, tag or commit (default: the default branch)",
            },
        },
        handle,
        operations=OPERATIONS,
        annotations=Annotations(
            read_only=False, destructive=False, idempotent=False, open_world=True
        ),
    )
