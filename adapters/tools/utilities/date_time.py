"""`date-time-handler`: now, parse, format, add, diff and convert, with IANA time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, refuse, tool

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

NAME = "date-time-handler"
UNITS = ["weeks", "days", "hours", "minutes", "seconds", "milliseconds"]


def _zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise refuse(
            NAME, f"unknown time zone {name!r} (use IANA names like 'Europe/Paris')"
        ) from None


def _parse(text: str, zone: str | None) -> datetime:
    from dateutil import parser

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = parser.parse(text)
        except (ValueError, OverflowError) as exc:
            raise refuse(NAME, f"cannot parse {text!r} as a date/time: {exc}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(zone) if zone else UTC)
    return value


def _out(value: datetime) -> dict[str, Any]:
    return {"iso": value.isoformat(), "timestamp": value.timestamp(), "timezone": str(value.tzinfo)}


async def handle(args: dict[str, Any]) -> Result:
    op, zone = args["operation"], args.get("timezone")
    if op == "now":
        value = datetime.now(_zone(zone) if zone else UTC)
        return answer(value.isoformat(), _out(value))
    value = _parse(args["datetime"], zone) if "datetime" in args else datetime.now(UTC)
    if op == "parse":
        return answer(value.isoformat(), _out(value))
    if op == "format":
        fmt = args["format"]
        try:
            text = value.strftime(fmt)
        except ValueError as exc:
            raise refuse(NAME, f"bad format {fmt!r}: {exc}") from None
        return answer(text, {"result": text, **_out(value)})
    if op == "add":
        delta = timedelta(**{unit: args[unit] for unit in UNITS if unit in args})
        result = value + delta
        return answer(result.isoformat(), _out(result))
    if op == "diff":
        other = _parse(args["other"], zone)
        seconds = (other - value).total_seconds()
        data = {
            "seconds": seconds,
            "minutes": seconds / 60,
            "hours": seconds / 3600,
            "days": seconds / 86400,
        }
        return answer(f"{seconds:g} seconds", data)
    if op == "convert":
        result = value.astimezone(_zone(args["to"]))
        return answer(result.isoformat(), _out(result))
    raise refuse(NAME, f"unknown operation {op!r}")


def component() -> Component:
    number = {"type": "number"}
    return tool(
        NAME,
        "Dates and times: now, parse (ISO 8601 or free text), format (strftime), add a duration, "
        "diff two instants, convert between IANA time zones. Naive times are read as UTC unless "
        "'timezone' says otherwise.",
        {
            "datetime": {
                "type": "string",
                "description": "The instant to work on (ISO 8601 or free text)",
            },
            "other": {"type": "string", "description": "diff: the second instant"},
            "timezone": {"type": "string", "description": "Zone for now, and for naive inputs"},
            "to": {"type": "string", "description": "convert: target IANA zone"},
            "format": {"type": "string", "description": "format: a strftime pattern"},
            **{unit: number for unit in UNITS},
        },
        handle,
        operations={
            "now": [],
            "parse": ["datetime"],
            "format": ["datetime", "format"],
            "add": ["datetime"],
            "diff": ["datetime", "other"],
            "convert": ["datetime", "to"],
        },
        annotations=Annotations(
            read_only=True, idempotent=False, destructive=False, open_world=False
        ),
    )
