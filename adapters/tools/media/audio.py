"""`audio-processor`: facts about an audio file, and converting (WAV, FLAC, OGG, MP3) and trimming
it with PyAV (FFmpeg), in a worker thread. Trimming is FFmpeg's `atrim` filter, so it is
sample-accurate, and every encoder is fed by a resampler that gives it the sample format, rate
and frame size it demands."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Component, Result

from .._common import INPUT_PROPERTIES, answer, input_bytes, need, refuse, tool
from ..sandbox.files import Roots
from ._shared import OUTPUT_PROPERTY, WRITES_OUTPUT, deliver, suffix_format

if TYPE_CHECKING:
    import av.container
    from av.audio.frame import AudioFrame
    from av.audio.stream import AudioStream

NAME = "audio-processor"

FORMATS = {"wav": "wav", "flac": "flac", "ogg": "ogg", "mp3": "mp3"}
CODECS = {"wav": "pcm_s16le", "flac": "flac", "ogg": "libopus", "mp3": "libmp3lame"}
"""OGG carries Opus: FFmpeg's own Vorbis encoder is experimental, libopus is not."""
MIME = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "mp3": "audio/mpeg"}


def _open(data: bytes) -> tuple[av.container.InputContainer, AudioStream]:
    import av

    try:
        container = av.open(io.BytesIO(data), "r")
    except av.FFmpegError as exc:
        raise refuse(NAME, f"the input is not audio FFmpeg can read ({exc.strerror})") from None
    if not container.streams.audio:
        container.close()
        raise refuse(NAME, "the input has no audio stream")
    return container, container.streams.audio[0]


def _duration(container: av.container.InputContainer, stream: AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration is not None:
        return round(container.duration / 1_000_000, 3)
    return None


def _info(data: bytes) -> Result:
    container, stream = _open(data)
    with container:
        ctx = stream.codec_context
        facts = {
            "format": container.format.name,
            "codec": ctx.name,
            "duration": _duration(container, stream),
            "sample_rate": ctx.sample_rate,
            "channels": ctx.layout.nb_channels,
            "bit_rate": container.bit_rate or None,
            "bytes": len(data),
        }
    text = (
        f"{facts['format']} ({facts['codec']}), {facts['duration']} s, "
        f"{facts['sample_rate']} Hz, {facts['channels']} channel(s)"
    )
    return answer(text, facts)


def _trimmed(
    container: av.container.InputContainer,
    stream: AudioStream,
    start: float | None,
    end: float | None,
) -> Iterator[AudioFrame]:
    """The decoded frames, cut to [start, end) by FFmpeg's atrim filter when asked."""
    import av
    import av.filter

    if start is None and end is None:
        yield from container.decode(stream)
        return
    graph = av.filter.Graph()
    source = graph.add_abuffer(template=stream)
    bounds = {k: str(v) for k, v in (("start", start), ("end", end)) if v is not None}
    chain = [source, graph.add("atrim", **bounds), graph.add("asetpts", "PTS-STARTPTS")]
    chain.append(graph.add("abuffersink"))
    for a, b in itertools.pairwise(chain):
        a.link_to(b)
    graph.configure()

    def drain() -> Iterator[AudioFrame]:
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            assert isinstance(frame, av.AudioFrame)
            yield frame

    for frame in container.decode(stream):
        try:
            graph.push(frame)
        except av.EOFError:  # past `end`: atrim wants no more
            break
        yield from drain()
    else:
        graph.push(None)
    yield from drain()


def _encode(data: bytes, fmt: str, start: float | None, end: float | None) -> dict[str, Any]:
    import av

    container, stream = _open(data)
    duration = _duration(container, stream)
    if start is not None and duration is not None and start >= duration:
        container.close()
        raise refuse(NAME, f"start {start} s is at or past the end of the audio ({duration} s)")
    codec = av.Codec(CODECS[fmt], "w")
    source_rate = stream.codec_context.sample_rate or 44100
    rates = codec.audio_rates
    rate = 48000 if fmt == "ogg" else source_rate
    if rates and rate not in rates:
        rate = min(rates, key=lambda r: abs(r - source_rate))
    layout = "stereo" if stream.codec_context.layout.nb_channels >= 2 else "mono"
    sample_format = codec.audio_formats[0].name if codec.audio_formats else "s16"
    out = io.BytesIO()
    samples = 0
    with container, av.open(out, "w", format=FORMATS[fmt]) as target:
        encoder = target.add_stream(CODECS[fmt], rate=rate, layout=layout)
        assert isinstance(encoder, av.AudioStream)
        encoder.codec_context.format = sample_format
        encoder.codec_context.open()
        resampler = av.AudioResampler(
            sample_format, layout, rate, frame_size=encoder.codec_context.frame_size or None
        )
        try:
            for frame in _trimmed(container, stream, start, end):
                for chunk in resampler.resample(frame):
                    samples += chunk.samples
                    target.mux(encoder.encode(chunk))
            for chunk in resampler.resample(None):
                samples += chunk.samples
                target.mux(encoder.encode(chunk))
            target.mux(encoder.encode(None))
        except av.FFmpegError as exc:
            raise refuse(NAME, f"the audio could not be converted ({exc.strerror})") from None
    if samples == 0:
        raise refuse(NAME, "the result has no audio: check 'start' and 'end'")
    return {
        "bytes_out": out.getvalue(),
        "format": fmt,
        "codec": CODECS[fmt],
        "duration": round(samples / rate, 3),
        "sample_rate": rate,
        "channels": 2 if layout == "stereo" else 1,
    }


def _source_format(data: bytes) -> str | None:
    container, _ = _open(data)
    with container:
        return next((f for f in container.format.name.split(",") if f in FORMATS), None)


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        need("av", "media", NAME)
        op = args["operation"]
        if op == "info" and "output" in args:
            raise refuse(NAME, "'output' is for convert and trim, not info")
        data = await input_bytes(args, roots, NAME)
        if op == "info":
            return await asyncio.to_thread(_info, data)
        start, end = args.get("start"), args.get("end")
        if op == "trim" and start is None and end is None:
            raise refuse(NAME, "trim needs 'start', 'end' or both (seconds)")
        if start is not None and end is not None and end <= start:
            raise refuse(NAME, f"'end' ({end}) must be after 'start' ({start})")
        fmt = (
            args.get("format")
            or suffix_format(args.get("output"), FORMATS)
            or await asyncio.to_thread(_source_format, data)
            or "wav"
        )
        facts = await asyncio.to_thread(_encode, data, fmt, start, end)
        encoded = facts.pop("bytes_out")
        summary = (
            f"{op}: {fmt.upper()} {facts['duration']} s, {facts['sample_rate']} Hz, "
            f"{facts['channels']} channel(s), {len(encoded)} bytes"
        )
        return await deliver(NAME, roots, args, encoded, MIME[fmt], facts, summary)

    seconds = {"type": "number", "minimum": 0}
    return tool(
        NAME,
        "Reads an audio file's facts (duration, sample rate, channels, codec, format), converts "
        "it between WAV, FLAC, OGG (Opus) and MP3, or trims it to [start, end) seconds, with "
        "FFmpeg (PyAV). Input is a file inside the allowed roots ('path') or base64 bytes "
        "('data'); the result comes back as audio, or is written to a new file at 'output'.",
        {
            **INPUT_PROPERTIES,
            "output": OUTPUT_PROPERTY,
            "format": {
                "type": "string",
                "enum": list(FORMATS),
                "description": "Output format (convert needs it; trim uses the output file's "
                "suffix, else the input's format, else WAV)",
            },
            "start": {**seconds, "description": "convert/trim: keep audio from here (seconds)"},
            "end": {**seconds, "description": "convert/trim: keep audio up to here (seconds)"},
        },
        handle,
        operations={"info": [], "convert": ["format"], "trim": []},
        annotations=WRITES_OUTPUT,
    )
