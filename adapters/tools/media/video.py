"""`video-processor`: facts about a video (probe) and a still from it (frame, thumbnail), with
PyAV in a worker thread. A still is found by seeking to the keyframe before the time asked and
decoding forward to the first frame shown at or after it, so it is the exact frame, not the
nearest keyframe."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Component, Result

from .._common import INPUT_PROPERTIES, PURE, answer, input_bytes, need, refuse, tool
from ..sandbox.files import Roots
from ._shared import IMAGE_MIME, deliver, encode_image

if TYPE_CHECKING:
    import av.container
    from av.stream import Stream
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

NAME = "video-processor"
STILL_FORMATS = {"png": "PNG", "jpeg": "JPEG"}


def _open(data: bytes) -> av.container.InputContainer:
    import av

    try:
        return av.open(io.BytesIO(data), "r")
    except av.FFmpegError as exc:
        raise refuse(NAME, f"the input is not a video FFmpeg can read ({exc.strerror})") from None


def _seconds(value: Any, stream: Stream) -> float | None:
    if value is None or stream.time_base is None:
        return None
    return round(float(value * stream.time_base), 3)


def _duration(container: av.container.InputContainer) -> float | None:
    return round(container.duration / 1_000_000, 3) if container.duration is not None else None


def _stream_facts(stream: Stream) -> dict[str, Any]:
    import av

    ctx = stream.codec_context
    facts: dict[str, Any] = {
        "index": stream.index,
        "type": stream.type,
        "codec": ctx.name if ctx is not None else None,
        "duration": _seconds(stream.duration, stream),
    }
    if isinstance(stream, av.VideoStream):
        rate = stream.average_rate or stream.guessed_rate
        facts |= {
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "fps": round(float(rate), 3) if rate else None,
            "frames": stream.frames or None,
        }
    elif isinstance(stream, av.AudioStream):
        facts |= {
            "sample_rate": stream.codec_context.sample_rate,
            "channels": stream.codec_context.layout.nb_channels,
        }
    return facts


def _probe(data: bytes) -> Result:
    with _open(data) as container:
        streams = [_stream_facts(s) for s in container.streams]
        video = next((s for s in streams if s["type"] == "video"), None)
        audio = next((s for s in streams if s["type"] == "audio"), None)
        facts = {
            "format": container.format.name,
            "duration": _duration(container),
            "width": video and video["width"],
            "height": video and video["height"],
            "fps": video and video["fps"],
            "video_codec": video and video["codec"],
            "audio_codec": audio and audio["codec"],
            "bit_rate": container.bit_rate or None,
            "streams": streams,
            "bytes": len(data),
        }
    if video is None:
        text = f"{facts['format']}, {facts['duration']} s, no video stream"
    else:
        text = (
            f"{facts['format']}, {facts['duration']} s, {video['width']}x{video['height']} "
            f"{video['codec']} at {video['fps']} fps"
        )
    return answer(text + (f", audio {audio['codec']}" if audio else ""), facts)


def _frame_at(
    container: av.container.InputContainer, stream: VideoStream, at: float
) -> VideoFrame | None:
    """The first frame shown at or after `at` seconds; the last frame when `at` falls on it
    (between its start and the end of the video); None past the end."""
    import av

    if at > 0 and stream.time_base is not None:
        offset = int(at / stream.time_base) + (stream.start_time or 0)
        try:
            container.seek(offset, stream=stream, backward=True)
        except av.FFmpegError:
            container.seek(0)
    last = None
    for frame in container.decode(stream):
        if frame.time is not None and frame.time >= at - 1e-6:
            return frame
        last = frame
    duration = _duration(container)
    return last if duration is not None and at < duration else None


def _still(data: bytes, args: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    import av

    at = float(args.get("time", 0))
    fmt = STILL_FORMATS[args.get("format", "png")]
    with _open(data) as container:
        if not container.streams.video:
            raise refuse(NAME, "the input has no video stream")
        stream = container.streams.video[0]
        try:
            frame = _frame_at(container, stream, at)
        except av.FFmpegError as exc:
            raise refuse(NAME, f"the video could not be decoded ({exc.strerror})") from None
        if frame is None:
            raise refuse(
                NAME, f"time {at} s is past the end of the video ({_duration(container)} s)"
            )
        image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV's stub lacks it
        shown = round(frame.time or 0.0, 3)
    if args["operation"] == "thumbnail":
        image.thumbnail((args.get("max_size", 256),) * 2)
    encoded = encode_image(NAME, image, fmt)
    return encoded, {"time": shown, "format": fmt, "width": image.width, "height": image.height}


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        need("av", "media", NAME)
        data = await input_bytes(args, roots, NAME)
        if args["operation"] == "probe":
            return await asyncio.to_thread(_probe, data)
        need("PIL", "media", NAME)
        encoded, facts = await asyncio.to_thread(_still, data, args)
        summary = (
            f"{args['operation']} at {facts['time']} s: {facts['format']} "
            f"{facts['width']}x{facts['height']}, {len(encoded)} bytes"
        )
        return await deliver(
            NAME, roots, args, encoded, IMAGE_MIME[facts["format"]], facts, summary
        )

    return tool(
        NAME,
        "Probes a video (duration, size, frame rate, codecs, streams) or extracts the frame "
        "shown at a time as a PNG/JPEG image (frame), optionally scaled down (thumbnail), with "
        "FFmpeg (PyAV). Input is a file inside the allowed roots ('path') or base64 bytes "
        "('data').",
        {
            **INPUT_PROPERTIES,
            "time": {
                "type": "number",
                "minimum": 0,
                "default": 0,
                "description": "frame/thumbnail: seconds from the start",
            },
            "format": {"type": "string", "enum": list(STILL_FORMATS), "default": "png"},
            "max_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 4096,
                "default": 256,
                "description": "thumbnail: longest side in pixels (never enlarges)",
            },
        },
        handle,
        operations={"probe": [], "frame": ["time"], "thumbnail": []},
        annotations=PURE,
    )
