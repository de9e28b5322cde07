"""Checks on uploaded files, so that a bad upload gets one clear sentence instead of a failure deep inside.

Each check raises ``ValueError`` naming the input and what is allowed: a type the app does not take, a file
that does not decode, a clip that runs too long or a frame that is too large. Only files that Gradio
received as uploads are read; any other path is refused (an API client can send a path of its choosing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .workspace import Workspace

VIDEO_TYPES: tuple[str, ...] = (".mp4", ".gif")
IMAGE_TYPES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be; the file size itself is capped by Gradio's ``max_file_size``."""

    max_seconds: float = 20.0
    max_side: int = 1024
    min_side: int = 8


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    seconds: float


def _uploaded(path: str | None, name: str, workspace: Workspace, types: tuple[str, ...]) -> Path:
    if not path:
        raise ValueError(f"{name}: upload a file first")
    if not workspace.is_upload(path):
        raise ValueError(f"{name}: only files uploaded to this app can be used")
    suffix = Path(path).suffix.lower()
    if suffix not in types:
        raise ValueError(f"{name}: {Path(path).name!r} is not a supported file; upload {' or '.join(types)}")
    return Path(path)


def _probe(path: Path) -> VideoInfo:
    """Size and duration from the file's header, before any frame is decoded."""
    if path.suffix.lower() == ".gif":
        from PIL import Image

        with Image.open(path) as image:
            if image.format != "GIF":
                raise ValueError(f"is a {image.format} image, not a GIF")
            frames = getattr(image, "n_frames", 1)
            seconds = 0.0
            for index in range(frames):
                image.seek(index)
                seconds += image.info.get("duration", 100) / 1000.0
            return VideoInfo(image.width, image.height, seconds)
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    finally:
        reader.close()
    width, height = meta["size"]
    return VideoInfo(int(width), int(height), float(meta.get("duration") or 0.0))


def _check_side(name: str, width: int, height: int, limits: UploadLimits) -> None:
    if min(width, height) < limits.min_side or max(width, height) > limits.max_side:
        raise ValueError(f"{name}: frames are {width}x{height} pixels; each side must be in "
                         f"[{limits.min_side}, {limits.max_side}]")


def read_video_upload(path: str | None, name: str, workspace: Workspace, limits: UploadLimits) -> np.ndarray:
    """The uploaded clip as uint8 ``(F, H, W, 3)``, after the type, size, duration and decoding checks."""
    from t2v.video import read_video

    source = _uploaded(path, name, workspace, VIDEO_TYPES)
    try:
        info = _probe(source)
    except Exception as err:  # any decoder failure means the same to the user
        raise ValueError(f"{name}: {source.name!r} could not be read as a video") from err
    _check_side(name, info.width, info.height, limits)
    if info.seconds > limits.max_seconds:
        raise ValueError(f"{name}: the clip runs {info.seconds:.1f} s; at most {limits.max_seconds:g} s is taken")
    try:
        return read_video(source)
    except ValueError as err:
        raise ValueError(f"{name}: {source.name!r} could not be decoded as a video") from err


def read_image_upload(path: str | None, name: str, workspace: Workspace, limits: UploadLimits) -> np.ndarray:
    """The uploaded image as uint8 ``(H, W, 3)``, after the type, size and decoding checks."""
    from PIL import Image, UnidentifiedImageError

    source = _uploaded(path, name, workspace, IMAGE_TYPES)
    try:
        with Image.open(source) as image:
            _check_side(name, image.width, image.height, limits)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as err:
        raise ValueError(f"{name}: {source.name!r} could not be decoded as an image") from err


def fit_frames(frames: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Frames ``(F, H, W, 3)`` scaled and centre-cropped to the model's native size (a side, or
    ``(height, width)``)."""
    from PIL import Image, ImageOps

    height, width = (size, size) if isinstance(size, int) else size
    if frames.shape[1:3] == (height, width):
        return frames
    return np.stack([np.asarray(ImageOps.fit(Image.fromarray(frame), (width, height), Image.Resampling.LANCZOS))
                     for frame in frames])
