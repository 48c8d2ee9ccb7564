"""Media: images, audio, video and OCR over files inside the allowed roots (or base64 bytes).
Pillow and PyAV come with the `media` extra and are imported only when a tool is called."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import audio, image, ocr, video


def components(env: ToolEnv) -> list[Component]:
    roots = env.roots
    return [
        image.component(roots),
        audio.component(roots),
        video.component(roots),
        ocr.component(roots),
    ]
