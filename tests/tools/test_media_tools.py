"""Media tools through the real pipeline, on inputs the tests make: Pillow images (and text for
OCR to read back), a PyAV-encoded red-then-blue video and a PyAV sine wave."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import av  # the `media` extra: `make test` installs it, so a missing one fails, never skips
import pytest
from llmspell.runtime import BlobPart, ErrorCode, Result, Runtime
from PIL import Image, ImageDraw, ImageFont

from llmspell.bench.tools import sine_wav

from .conftest import call, refused


@pytest.fixture
def tesseract() -> None:
    """The OCR tests need Debian's tesseract-ocr, which `make test` installs: without it they
    fail saying so, never skip."""
    assert shutil.which("tesseract"), "install tesseract-ocr (make test does, with apt-get)"


needs_tesseract = pytest.mark.usefixtures("tesseract")


def png(img: Any, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def blob(result: Result) -> BlobPart:
    (part,) = [p for p in result.parts if isinstance(p, BlobPart)]
    return part


def decoded(result: Result) -> Any:
    return Image.open(io.BytesIO(blob(result).data))


def colour(img: Any) -> tuple[int, int, int]:
    """The average colour, which for a flat frame is its colour."""
    r, g, b = img.convert("RGB").resize((1, 1)).getpixel((0, 0))
    return r, g, b


# -- image-processor ---------------------------------------------------------------------------


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    """200x100: the left half red, the right half green."""
    img = Image.new("RGB", (200, 100), (255, 0, 0))
    img.paste((0, 255, 0), (100, 0, 200, 100))
    path = tmp_path / "picture.png"
    path.write_bytes(png(img))
    return path


async def test_image_info(rt: Runtime, picture: Path) -> None:
    result = await call(rt, "image-processor", operation="info", path="picture.png")
    assert result.data == {
        "format": "PNG",
        "width": 200,
        "height": 100,
        "mode": "RGB",
        "frames": 1,
        "bytes": picture.stat().st_size,
    }
    assert result.text.startswith("PNG 200x100 RGB")


@pytest.mark.parametrize(
    ("args", "size"),
    [
        ({"width": 50}, (50, 25)),
        ({"height": 20}, (40, 20)),
        ({"width": 50, "height": 50}, (50, 25)),
        ({"width": 50, "height": 50, "keep_aspect": False}, (50, 50)),
    ],
)
async def test_image_resize(
    rt: Runtime, picture: Path, args: dict[str, Any], size: tuple[int, int]
) -> None:
    result = await call(rt, "image-processor", operation="resize", path="picture.png", **args)
    img = decoded(result)
    assert img.size == size and img.format == "PNG"
    assert blob(result).mime_type == "image/png" and blob(result).kind == "image"
    assert result.data == {
        "format": "PNG",
        "width": size[0],
        "height": size[1],
        "mode": "RGB",
        "bytes": len(blob(result).data),
    }


async def test_image_crop_rotate_thumbnail(rt: Runtime, picture: Path) -> None:
    crop = await call(
        rt, "image-processor", operation="crop", path="picture.png", box=[120, 10, 180, 40]
    )
    assert decoded(crop).size == (60, 30) and colour(decoded(crop)) == (0, 255, 0)
    turned = await call(rt, "image-processor", operation="rotate", path="picture.png", degrees=90)
    img = decoded(turned)
    # counter-clockwise: the left (red) half ends at the bottom
    assert img.size == (100, 200) and img.getpixel((50, 190)) == (255, 0, 0)
    kept = await call(
        rt, "image-processor", operation="rotate", path="picture.png", degrees=90, expand=False
    )
    assert decoded(kept).size == (200, 100)
    thumb = await call(
        rt, "image-processor", operation="thumbnail", path="picture.png", max_size=64
    )
    assert decoded(thumb).size == (64, 32)


async def test_image_convert_from_base64(rt: Runtime) -> None:
    rgba = Image.new("RGBA", (30, 20), (0, 0, 255, 0))  # fully transparent: JPEG shows white
    data = b64(png(rgba))
    jpeg = await call(
        rt, "image-processor", operation="convert", data=data, format="jpeg", quality=90
    )
    img = decoded(jpeg)
    assert img.format == "JPEG" and img.size == (30, 20) and blob(jpeg).mime_type == "image/jpeg"
    assert all(c > 245 for c in colour(img))
    webp = await call(rt, "image-processor", operation="convert", data=data, format="webp")
    assert decoded(webp).format == "WEBP" and decoded(webp).mode == "RGBA"
    assert blob(webp).mime_type == "image/webp"


async def test_image_output_file(rt: Runtime, picture: Path, tmp_path: Path) -> None:
    result = await call(
        rt, "image-processor", operation="thumbnail", path="picture.png", output="thumb.jpg"
    )
    assert not any(isinstance(p, BlobPart) for p in result.parts)
    assert result.data["path"] == "thumb.jpg" and result.data["format"] == "JPEG"
    assert result.text.startswith("wrote thumbnail: JPEG 200x100")
    written = Image.open(tmp_path / "thumb.jpg")
    assert written.format == "JPEG" and written.size == (200, 100)
    err = await refused(
        rt, "image-processor", operation="thumbnail", path="picture.png", output="thumb.jpg"
    )
    assert err.message == "image-processor: 'thumb.jpg' already exists; choose a new output path"
    err = await refused(
        rt, "image-processor", operation="rotate", path="picture.png", degrees=1, output="../x.png"
    )
    assert err.code == ErrorCode.DENIED and "outside the allowed roots" in err.message


async def test_image_refusals(rt: Runtime, picture: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    err = await refused(rt, "image-processor", operation="info", path="notes.txt")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "image-processor: the input is not an image format Pillow can read"
    err = await refused(rt, "image-processor", operation="info", path="/etc/hostname")
    assert err.code == ErrorCode.DENIED
    err = await refused(rt, "image-processor", operation="info", data="@@not base64@@")
    assert err.message == "image-processor: 'data' is not valid base64"
    err = await refused(rt, "image-processor", operation="resize", path="picture.png")
    assert err.message == "image-processor: resize needs 'width', 'height' or both"
    err = await refused(
        rt, "image-processor", operation="crop", path="picture.png", box=[0, 0, 300, 50]
    )
    assert err.message == (
        "image-processor: box [0, 0, 300, 50] must lie within the 200x100 image "
        "as [left, top, right, bottom] with left < right and top < bottom"
    )
    err = await refused(rt, "image-processor", operation="info", path="picture.png", output="x.png")
    assert err.message == "image-processor: 'output' is for operations that make an image, not info"
    err = await refused(rt, "image-processor", operation="info")
    assert err.message == (
        "image-processor: give 'path' (a file inside the allowed roots) or 'data' (base64)"
    )


async def test_image_schema_violations(rt: Runtime, picture: Path) -> None:
    err = await refused(rt, "image-processor", operation="crop", path="picture.png")
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "'box' is a required property" in err.message
    err = await refused(
        rt, "image-processor", operation="convert", path="picture.png", format="gif"
    )
    assert err.data["field"] == "format"
    err = await refused(rt, "image-processor", operation="crop", path="picture.png", box=[1, 2])
    assert err.data["field"] == "box"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [40, 100])  # Pillow warns over the limit, raises over twice it
async def test_image_decompression_bomb(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: int
) -> None:
    (tmp_path / "big.png").write_bytes(png(Image.new("L", (side, side))))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    err = await refused(rt, "image-processor", operation="info", path="big.png")
    assert err.message == (
        "image-processor: the image is over the 1000-pixel limit (a possible decompression bomb)"
    )


# -- audio-processor ---------------------------------------------------------------------------


def audio_facts(data: bytes) -> tuple[str, str, float]:
    """(container, codec, seconds counted from the decoded samples)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return container.format.name, stream.codec_context.name, samples / stream.sample_rate


@pytest.fixture
def sine(tmp_path: Path) -> Path:
    path = tmp_path / "sine.wav"
    path.write_bytes(sine_wav(3.0))
    return path


async def test_audio_info(rt: Runtime, sine: Path) -> None:
    result = await call(rt, "audio-processor", operation="info", path="sine.wav")
    assert result.data.pop("bit_rate") == pytest.approx(44100 * 16, rel=0.01)
    assert result.data == {
        "format": "wav",
        "codec": "pcm_s16le",
        "duration": 3.0,
        "sample_rate": 44100,
        "channels": 1,
        "bytes": sine.stat().st_size,
    }


@pytest.mark.parametrize(
    ("fmt", "mime", "container", "codec"),
    [
        ("flac", "audio/flac", "flac", "flac"),
        ("mp3", "audio/mpeg", "mp3", "mp3"),
        ("ogg", "audio/ogg", "ogg", "opus"),
        ("wav", "audio/wav", "wav", "pcm_s16le"),
    ],
)
async def test_audio_convert_and_trim(
    rt: Runtime, sine: Path, fmt: str, mime: str, container: str, codec: str
) -> None:
    whole = await call(rt, "audio-processor", operation="convert", path="sine.wav", format=fmt)
    assert blob(whole).mime_type == mime and blob(whole).kind == "audio"
    got_container, got_codec, seconds = audio_facts(blob(whole).data)
    assert (got_container, got_codec.removesuffix("float")) == (container, codec)
    assert seconds == pytest.approx(3.0, abs=0.06) and whole.data["duration"] == 3.0
    cut = await call(
        rt, "audio-processor", operation="trim", path="sine.wav", format=fmt, start=1, end=2
    )
    assert audio_facts(blob(cut).data)[2] == pytest.approx(1.0, abs=0.06)
    assert cut.data["duration"] == pytest.approx(1.0, abs=0.03)


async def test_audio_trim_keeps_format_and_writes_output(
    rt: Runtime, sine: Path, tmp_path: Path
) -> None:
    tail = await call(
        rt, "audio-processor", operation="trim", data=b64(sine.read_bytes()), start=2.5
    )
    assert blob(tail).mime_type == "audio/wav" and tail.data["duration"] == 0.5
    written = await call(
        rt, "audio-processor", operation="trim", path="sine.wav", end=1, output="head.flac"
    )
    assert written.data["path"] == "head.flac" and written.data["format"] == "flac"
    assert audio_facts((tmp_path / "head.flac").read_bytes())[2] == pytest.approx(1.0, abs=0.01)


async def test_audio_refusals(rt: Runtime, sine: Path, tmp_path: Path) -> None:
    err = await refused(rt, "audio-processor", operation="trim", path="sine.wav")
    assert err.message == "audio-processor: trim needs 'start', 'end' or both (seconds)"
    err = await refused(rt, "audio-processor", operation="trim", path="sine.wav", start=2, end=1)
    assert err.message == "audio-processor: 'end' (1) must be after 'start' (2)"
    err = await refused(rt, "audio-processor", operation="trim", path="sine.wav", start=5)
    assert err.message == "audio-processor: start 5 s is at or past the end of the audio (3.0 s)"
    (tmp_path / "noise.bin").write_bytes(b"\x01\x02 not audio at all" * 10)
    err = await refused(rt, "audio-processor", operation="info", path="noise.bin")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message.startswith("audio-processor: the input is not audio FFmpeg can read (")
    (tmp_path / "still.png").write_bytes(png(Image.new("RGB", (8, 8))))
    err = await refused(rt, "audio-processor", operation="info", path="still.png")
    assert err.message == "audio-processor: the input has no audio stream"
    err = await refused(rt, "audio-processor", operation="info", path="sine.wav", output="x.wav")
    assert err.message == "audio-processor: 'output' is for convert and trim, not info"
    err = await refused(rt, "audio-processor", operation="convert", path="sine.wav", format="aac")
    assert err.data["field"] == "format"
    err = await refused(rt, "audio-processor", operation="convert", path="sine.wav")
    assert "'format' is a required property" in err.message


# -- video-processor ---------------------------------------------------------------------------

RED, BLUE = (255, 0, 0), (0, 0, 255)


def two_second_video(codec: str = "mpeg4") -> bytes:
    """10 fps, 160x120 in MP4: red frames for the first second, blue for the second."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(20):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 120), RED if i < 10 else BLUE))
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buf.getvalue()


@pytest.fixture(params=["mpeg4", "libx264"])  # H.264 reorders frames (B-frames)
def clip(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(two_second_video(request.param))
    return path


def near(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 12 for a, e in zip(actual, expected, strict=True))


async def test_video_probe(rt: Runtime, clip: Path) -> None:
    result = await call(rt, "video-processor", operation="probe", path="clip.mp4")
    facts = result.data
    assert facts["duration"] == pytest.approx(2.0, abs=0.05)
    assert (facts["width"], facts["height"], facts["fps"]) == (160, 120, 10)
    assert facts["video_codec"] in ("mpeg4", "h264") and facts["audio_codec"] is None
    assert "mp4" in facts["format"] and facts["bytes"] == clip.stat().st_size
    (stream,) = facts["streams"]
    assert stream["type"] == "video" and stream["frames"] == 20


async def test_video_frame_at_time(rt: Runtime, clip: Path) -> None:
    blue = await call(rt, "video-processor", operation="frame", path="clip.mp4", time=1.5)
    img = decoded(blue)
    assert img.format == "PNG" and img.size == (160, 120) and blob(blue).mime_type == "image/png"
    assert near(colour(img), BLUE) and blue.data["time"] == 1.5
    red = await call(
        rt, "video-processor", operation="frame", data=b64(clip.read_bytes()), time=0.5
    )
    assert near(colour(decoded(red)), RED)
    # between frames: the next one shown (1.0 s is the first blue frame)
    edge = await call(rt, "video-processor", operation="frame", path="clip.mp4", time=0.95)
    assert edge.data["time"] == 1.0 and near(colour(decoded(edge)), BLUE)


async def test_video_thumbnail(rt: Runtime, clip: Path) -> None:
    result = await call(
        rt, "video-processor", operation="thumbnail", path="clip.mp4", max_size=80, format="jpeg"
    )
    img = decoded(result)
    assert img.format == "JPEG" and img.size == (80, 60) and near(colour(img), RED)


async def test_video_refusals(rt: Runtime, clip: Path, tmp_path: Path) -> None:
    err = await refused(rt, "video-processor", operation="frame", path="clip.mp4", time=3)
    assert err.message == "video-processor: time 3.0 s is past the end of the video (2.0 s)"
    err = await refused(rt, "video-processor", operation="frame", path="clip.mp4")
    assert "'time' is a required property" in err.message
    err = await refused(rt, "video-processor", operation="frame", path="clip.mp4", time=-1)
    assert err.data["field"] == "time"
    (tmp_path / "sine.wav").write_bytes(sine_wav(0.5))
    err = await refused(rt, "video-processor", operation="frame", path="sine.wav", time=0)
    assert err.message == "video-processor: the input has no video stream"
    (tmp_path / "noise.bin").write_bytes(b"\x00junk" * 50)
    err = await refused(rt, "video-processor", operation="probe", path="noise.bin")
    assert err.message.startswith("video-processor: the input is not a video FFmpeg can read (")


async def test_missing_extra_names_it(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # import av now raises ImportError
    err = await refused(rt, "video-processor", operation="probe", data=b64(b"x"))
    assert err.code == ErrorCode.NOT_CONFIGURED
    assert err.message == (
        "video-processor: needs the 'media' extra (pip install 'llmspell[media]'); "
        "av is not installed"
    )


# -- ocr-extractor -----------------------------------------------------------------------------


def text_image(text: str) -> bytes:
    img = Image.new("RGB", (900, 160), "white")
    ImageDraw.Draw(img).text((30, 50), text, fill="black", font=ImageFont.load_default(size=48))
    return png(img)


@pytest.fixture
def langs() -> list[str]:
    """What `tesseract --list-langs` lists after its heading, less osd (as the tool reports)."""
    listed = subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[1:]
    return [code.strip() for code in listed if code.strip() not in ("", "osd")]


@needs_tesseract
async def test_ocr_reads_text_back(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "sign.png").write_bytes(text_image("Quick brown llamas"))
    result = await call(rt, "ocr-extractor", path="sign.png")
    assert all(word in result.text.lower() for word in ("quick", "brown", "llamas"))
    assert result.data["language"] == "eng" and result.data["text"] == result.text
    line = await call(
        rt, "ocr-extractor", data=b64(text_image("Seven gateways")), language="eng", psm=7
    )
    assert "seven gateways" in line.text.lower() and line.data["psm"] == 7
    blank = await call(rt, "ocr-extractor", data=b64(png(Image.new("L", (200, 80), 255))))
    assert blank.text == "(no text found)" and blank.data["text"] == ""


@needs_tesseract
async def test_ocr_refusals(rt: Runtime, tmp_path: Path, langs: list[str]) -> None:
    err = await refused(rt, "ocr-extractor", data=b64(text_image("x")), language="xx+eng")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        f"ocr-extractor: language 'xx' is not installed; installed: {', '.join(langs)}"
    )
    err = await refused(rt, "ocr-extractor", data=b64(text_image("x")), language="eng -c x")
    assert err.data["field"] == "language"
    (tmp_path / "notes.txt").write_text("plain text, not a picture")
    err = await refused(rt, "ocr-extractor", path="notes.txt")
    assert err.message == "ocr-extractor: the input is not an image format Pillow can read"


async def test_ocr_without_tesseract(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    err = await refused(rt, "ocr-extractor", data=b64(text_image("x")))
    assert err.code == ErrorCode.NOT_CONFIGURED
    assert err.message == (
        "ocr-extractor: the tesseract binary is not installed "
        "(Debian: apt-get install tesseract-ocr)"
    )
