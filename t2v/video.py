"""Video files and frame formats.

Files: ``.mp4`` is H.264 in yuv420p with the index at the front (``+faststart``), so browsers play
it; ``.gif`` loops forever and keeps every frame (duplicates included, so frame counts survive).
Both go through imageio-ffmpeg's bundled ffmpeg, and both are written atomically: a temporary
file in the target folder, renamed over the target only once ffmpeg has finished without error.

Frames follow diffusers' conventions: numpy ``uint8`` or float ``[0, 1]`` as ``(F, H, W, C)``
(``output_type="np"``, batched ``(B, F, H, W, C)``); torch float ``[0, 1]`` as ``(F, C, H, W)`` or
``(B, F, C, H, W)`` (``output_type="pt"``); VAE-space video tensors ``(B, C, F, H, W)`` in
``[-1, 1]`` (what ``VideoProcessor.preprocess_video`` returns and ``postprocess_video`` takes); and
lists of PIL images (``output_type="pil"``).
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".gif")
# Input layouts; B = batch, F = frames, C = channels. "C before F" layouts are VAE-space, in [-1, 1].
LAYOUTS: tuple[str, ...] = ("FHWC", "FCHW", "CFHW", "BFHWC", "BFCHW", "BCFHW")
TENSOR_LAYOUTS: tuple[str, ...] = ("FCHW", "BFCHW", "BCFHW")
MAX_FPS = 240
MIN_CRF, MAX_CRF = 0, 51
# One palette for the whole clip and no dithering: flat colours stay exactly flat across frames.
_GIF_FILTER = "split[a][b];[a]palettegen=stats_mode=full:reserve_transparent=0[p];[b][p]paletteuse=dither=none"


# -- frame conversions ---------------------------------------------------------------------

def _is_pil(obj: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return False
    return isinstance(obj, Image.Image)


def _is_torch(obj: Any) -> bool:
    torch = _torch_if_loaded()
    return torch is not None and isinstance(obj, torch.Tensor)


def _torch_if_loaded():
    """torch, if the caller could have made a tensor (it is imported); never imports it just to check."""
    return sys.modules.get("torch")


def _as_array(video: Any) -> tuple[np.ndarray, str]:
    """The video as a numpy array and where it came from ("np", "pt" or "pil")."""
    if isinstance(video, np.ndarray):
        return video, "np"
    if _is_torch(video):
        tensor = video.detach().cpu()
        if tensor.is_floating_point():
            tensor = tensor.float()
        return tensor.numpy(), "pt"
    if _is_pil(video):
        return np.asarray(video.convert("RGB"))[None], "pil"
    if isinstance(video, (list, tuple)):
        if not video:
            raise ValueError("video must hold at least one frame, got an empty list")
        first = video[0]
        if isinstance(first, (list, tuple)):  # a batch of PIL videos
            if len(video) != 1:
                raise ValueError(f"video is a batch of {len(video)} videos; pass one of them, e.g. video[0]")
            return _as_array(first)
        if all(_is_pil(frame) for frame in video):
            sizes = {frame.size for frame in video}
            if len(sizes) != 1:
                raise ValueError(f"video frames must all have one size, got {sorted(sizes)}")
            return np.stack([np.asarray(frame.convert("RGB")) for frame in video]), "pil"
        if all(isinstance(frame, np.ndarray) for frame in video):
            shapes = {frame.shape for frame in video}
            if len(shapes) != 1:
                raise ValueError(f"video frames must all have one shape, got {sorted(shapes)}")
            return np.stack(video), "np"
        if all(_is_torch(frame) for frame in video):
            torch = _torch_if_loaded()
            return _as_array(torch.stack(list(video)))[0], "pt"
        raise ValueError("video list must hold PIL images, numpy arrays or torch tensors of one kind")
    raise ValueError(f"video must be a numpy array, torch tensor or list of PIL images, got {type(video).__name__}")


def _guess_layout(array: np.ndarray, kind: str) -> str:
    if kind in ("np", "pil"):
        if array.ndim == 4:
            return "FHWC"
        if array.ndim == 5:
            return "BFHWC"
    elif array.ndim == 4:
        return "FCHW"
    elif array.ndim == 5:
        frames_first = array.shape[2] in (1, 3) and array.shape[1] not in (1, 3)
        channels_first = array.shape[1] in (1, 3) and array.shape[2] not in (1, 3)
        if frames_first:
            return "BFCHW"
        if channels_first:
            return "BCFHW"
        raise ValueError(f"video tensor of shape {tuple(array.shape)} is ambiguous; "
                         "pass layout='BFCHW' or layout='BCFHW'")
    raise ValueError(f"video must have 4 dims (frames first) or 5 (batch first), got shape {tuple(array.shape)}")


def _to_fhwc(array: np.ndarray, layout: str) -> np.ndarray:
    if array.ndim != len(layout):
        raise ValueError(f"layout {layout!r} needs a {len(layout)}-dim video, got shape {tuple(array.shape)}")
    if layout.startswith("B"):
        if array.shape[0] != 1:
            raise ValueError(f"video is a batch of {array.shape[0]} videos; pass one of them, e.g. video[0]")
        array, layout = array[0], layout[1:]
    return np.transpose(array, [layout.index(axis) for axis in "FHWC"])


def _check_layout(layout: str | None) -> None:
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)} or None, got {layout!r}")


def to_uint8_frames(
    video: Any, *, layout: str | None = None, value_range: tuple[float, float] | None = None
) -> np.ndarray:
    """Any supported video as ``uint8`` frames ``(F, H, W, 3)``.

    ``layout`` names the axes when the shape alone cannot (see :data:`LAYOUTS`); ``value_range``
    overrides the float range, which is ``[0, 1]`` except ``[-1, 1]`` for channels-before-frames
    layouts. Batches must hold one video. Grey frames are repeated to RGB; alpha is dropped.
    """
    _check_layout(layout)
    array, kind = _as_array(video)
    layout = layout or _guess_layout(array, kind)
    frames = _to_fhwc(array, layout)
    if frames.shape[0] < 1 or frames.shape[1] < 1 or frames.shape[2] < 1:
        raise ValueError(f"video must have at least one frame and pixel, got frames of shape {frames.shape}")
    channels = frames.shape[-1]
    if channels == 1:
        frames = np.repeat(frames, 3, axis=-1)
    elif channels == 4:
        frames = frames[..., :3]
    elif channels != 3:
        raise ValueError(f"video frames must have 1, 3 or 4 channels, got {channels} (layout {layout})")
    if frames.dtype == np.uint8:
        return np.ascontiguousarray(frames)
    if frames.dtype == np.bool_ or not np.issubdtype(frames.dtype, np.number):
        raise ValueError(f"video values must be uint8 or float, got dtype {frames.dtype}")
    if np.issubdtype(frames.dtype, np.integer):
        if frames.min() < 0 or frames.max() > 255:
            raise ValueError(f"integer video values must lie in [0, 255], got [{frames.min()}, {frames.max()}]")
        return np.ascontiguousarray(frames.astype(np.uint8))
    low, high = value_range if value_range is not None else ((-1.0, 1.0) if "CF" in layout else (0.0, 1.0))
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    if not np.isfinite(frames).all():
        raise ValueError("video values must be finite, got NaN or infinity")
    slack = 0.5 * (high - low)  # decoders overshoot a little; far outside means a wrong range
    if frames.min() < low - slack or frames.max() > high + slack:
        raise ValueError(f"float video values must lie in [{low}, {high}] (pass value_range= for another "
                         f"range), got [{float(frames.min()):.3g}, {float(frames.max()):.3g}]")
    unit = np.clip((frames.astype(np.float32) - low) / (high - low), 0.0, 1.0)
    return np.rint(unit * 255.0).astype(np.uint8)


def to_pil_frames(video: Any, **kwargs: Any) -> list:
    """Any supported video as a list of RGB PIL images (diffusers ``output_type="pil"``)."""
    from PIL import Image

    return [Image.fromarray(frame) for frame in to_uint8_frames(video, **kwargs)]


def to_tensor_frames(video: Any, *, output_layout: str = "FCHW", **kwargs: Any):
    """Any supported video as a torch float tensor.

    ``output_layout``: ``"FCHW"`` or ``"BFCHW"`` in ``[0, 1]`` (diffusers ``output_type="pt"``), or
    ``"BCFHW"`` in ``[-1, 1]`` (the VAE's input, as ``VideoProcessor.preprocess_video`` makes).
    """
    import torch

    if output_layout not in TENSOR_LAYOUTS:
        raise ValueError(f"output_layout must be one of {list(TENSOR_LAYOUTS)}, got {output_layout!r}")
    frames = torch.from_numpy(to_uint8_frames(video, **kwargs)).float() / 255.0  # F H W C
    frames = frames.permute(0, 3, 1, 2).contiguous()  # F C H W
    if output_layout == "FCHW":
        return frames
    if output_layout == "BFCHW":
        return frames[None]
    return (frames * 2.0 - 1.0).permute(1, 0, 2, 3)[None].contiguous()


MAX_DISPLAY_SIZE = 4096


def resize_frames(video: Any, size: int) -> np.ndarray:
    """``uint8`` frames scaled by nearest neighbour to height ``size`` (width in proportion).

    For viewing small clips (64 px) large: every source pixel becomes a crisp block, no new colours.
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_DISPLAY_SIZE:
        raise ValueError(f"size must be an integer in [1, {MAX_DISPLAY_SIZE}], got {size!r}")
    frames = to_uint8_frames(video)
    height, width = frames.shape[1:3]
    new_width = max(1, round(width * size / height))
    rows = ((np.arange(size) + 0.5) * height / size).astype(np.int64)
    cols = ((np.arange(new_width) + 0.5) * width / new_width).astype(np.int64)
    return np.ascontiguousarray(frames[:, rows][:, :, cols])


# -- files ---------------------------------------------------------------------------------

def check_video_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it ends in a supported extension; ``ValueError`` otherwise."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file path ending in {' or '.join(VIDEO_EXTENSIONS)}, got {path!r}")
    path = Path(path)
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise ValueError(f"path must end in {' or '.join(VIDEO_EXTENSIONS)}, got {str(path)!r}")
    return path


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad odd heights or widths by repeating the last row/column: yuv420p stores colour per 2x2 block."""
    _, height, width, _ = frames.shape
    pad_h, pad_w = height % 2, width % 2
    if not (pad_h or pad_w):
        return frames
    logger.warning("H.264 in yuv420p needs even sizes: padding %dx%d frames to %dx%d by repeating the edge",
                   width, height, width + pad_w, height + pad_h)
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


# ffmpeg names OS failures by their C library text ("...: No space left on device"); longest first,
# so that "No such device or address" is not read as "No such device".
_ERRNO_BY_REASON: dict[str, int] = dict(sorted(((os.strerror(code), code) for code in errno.errorcode),
                                               key=lambda item: -len(item[0])))


def _ffmpeg_error(messages: str, returncode: int, path: Path) -> OSError:
    """ffmpeg's failure as an OSError, with the errno when ffmpeg names an OS error (ENOSPC for a
    full disk), so that callers can tell "cannot write there" apart and say why in one line."""
    lines = [line.strip() for line in messages.splitlines() if line.strip()]
    for line in lines:
        for reason, code in _ERRNO_BY_REASON.items():
            if reason in line:
                return OSError(code, reason, str(path))
    detail = lines[0] if lines else f"exit status {returncode}"
    return OSError(f"ffmpeg could not write {str(path)!r}: {detail}")


def _encode(frames: np.ndarray, path: Path, into: Path, fps: float, crf: int) -> None:
    """Encode ``frames`` for ``path`` (its extension picks the format) into the file ``into``.

    ffmpeg runs directly rather than through imageio-ffmpeg's writer, which ignores ffmpeg's exit
    status (a full disk gave an empty file and no error) and lets ffmpeg print to the terminal.
    """
    import imageio_ffmpeg

    if path.suffix.lower() == ".mp4":
        frames = _even(frames)
        output = ["-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf), "-preset", "medium",
                  "-movflags", "+faststart", "-f", "mp4"]
    else:
        output = ["-filter_complex", _GIF_FILTER, "-vcodec", "gif", "-pix_fmt", "pal8", "-loop", "0", "-f", "gif"]
    height, width = frames.shape[1:3]
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-r", str(Fraction(fps).limit_denominator()), "-i", "-", "-an",
               *output, str(into)]
    raw = memoryview(np.ascontiguousarray(frames)).cast("B")  # no copy of the frames
    done = subprocess.run(command, input=raw, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise _ffmpeg_error(done.stderr.decode(errors="replace"), done.returncode, path)


def _missing_parents(folder: Path) -> list[Path]:
    """The folders that writing into ``folder`` must create, innermost first; ENOTDIR when the
    nearest existing one is a file (mkdir would say "File exists", which misleads)."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    return missing


def check_writable(path: str | os.PathLike) -> None:
    """Raise the OSError that writing ``path`` would meet, now: callers check before the slow work
    that makes the frames. Missing folders count as writable when the nearest existing one is."""
    folder = Path(path).parent
    missing = _missing_parents(folder)
    with tempfile.TemporaryFile(dir=missing[-1].parent if missing else folder):
        pass


def write_video(frames: Any, path: str | os.PathLike, fps: float = 8, *, crf: int = 18) -> Path:
    """Write ``frames`` (any format :func:`to_uint8_frames` takes) to ``path`` (.mp4 or .gif).

    ``crf`` is H.264's quality (0 best, 51 worst; 18 looks lossless). Missing folders are made.
    On any failure nothing is left behind and an existing file at ``path`` is untouched. A file
    that cannot be written raises OSError, with ``errno`` set when the OS said why (ENOSPC: the
    disk is full).
    """
    path = check_video_path(path)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= MAX_FPS:
        raise ValueError(f"fps must be a number in (0, {MAX_FPS}], got {fps!r}")
    if isinstance(crf, bool) or not isinstance(crf, int) or not MIN_CRF <= crf <= MAX_CRF:
        raise ValueError(f"crf must be an integer in [{MIN_CRF}, {MAX_CRF}], got {crf!r}")
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder; give a file name ending in .mp4 or .gif")
    data = to_uint8_frames(frames)
    created = _missing_parents(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix.lower(), dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _encode(data, path, tmp, fps, crf)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a video is an ordinary shareable file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in created:  # innermost first
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    logger.info("wrote %s (%d frames, %dx%d, %s fps)", path, data.shape[0], data.shape[2], data.shape[1], fps)
    return path


def _read_gif(path: Path) -> np.ndarray:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format != "GIF":
                raise ValueError(f"path {str(path)!r} is not a GIF file (found {image.format})")
            return np.stack([np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)])
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"path {str(path)!r} is not a readable GIF: {err}") from err


def _read_ffmpeg(path: Path) -> np.ndarray:
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        width, height = meta["size"]
        frames = [np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3) for raw in reader]
    except (OSError, RuntimeError, StopIteration, KeyError, ValueError) as err:
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ValueError(f"path {str(path)!r} is not a readable video: {message}") from err
    if not frames:
        raise ValueError(f"path {str(path)!r} holds no video frames")
    return np.stack(frames)


def read_video(path: str | os.PathLike) -> np.ndarray:
    """Frames of an .mp4 or .gif file as ``uint8`` ``(F, H, W, 3)``."""
    path = check_video_path(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} does not exist or is not a file")
    if path.suffix.lower() == ".gif":
        return _read_gif(path)
    return _read_ffmpeg(path)


def frames_psnr(a: Sequence | np.ndarray, b: Sequence | np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 videos of one shape (inf when equal)."""
    first, second = to_uint8_frames(a), to_uint8_frames(b)
    if first.shape != second.shape:
        raise ValueError(f"videos must have one shape to compare, got {first.shape} and {second.shape}")
    mse = float(np.mean((first.astype(np.float64) - second.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * float(np.log10(255.0 ** 2 / mse))
