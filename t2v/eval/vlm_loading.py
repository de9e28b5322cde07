"""Loading a transformers vision-language model (Qwen2-VL / Qwen2.5-VL class) and its processor.

transformers' Qwen-VL processors insist on a video processor, and that one needs torchvision.
Without torchvision the processor cannot even be built, although the PIL image processor and the
tokenizer work. So when torchvision is missing, the processor is assembled from those two parts
(:func:`image_only_qwen_processor`): it is transformers' own Qwen2-VL processor class, minus the
video part, and the answerer then feeds sampled frames as a sequence of images.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

QWEN_VL_TYPES: tuple[str, ...] = ("qwen2_vl", "qwen2_5_vl")


def _chat_template(folder: Path, tokenizer: Any) -> str | None:
    """The processor's chat template: the tokenizer's, else ``chat_template.jinja``/``.json`` in the folder."""
    template = getattr(tokenizer, "chat_template", None)
    if template:
        return template
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    legacy = folder / "chat_template.json"
    if legacy.is_file():
        return json.loads(legacy.read_text(encoding="utf-8")).get("chat_template")
    return None


def image_only_qwen_processor(folder: str | os.PathLike[str]) -> Any:
    """transformers' Qwen2-VL processor built from the folder's tokenizer and image processor only."""
    from transformers import AutoImageProcessor, AutoTokenizer, Qwen2VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwenVLProcessor(Qwen2VLProcessor):
        """Qwen2-VL's processor without its (torchvision-only) video processor."""

        def __init__(self, image_processor: Any = None, tokenizer: Any = None, chat_template: str | None = None,
                     **kwargs: Any) -> None:
            self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
            self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    path = Path(folder)
    tokenizer = AutoTokenizer.from_pretrained(path)
    image_processor = AutoImageProcessor.from_pretrained(path)
    template = _chat_template(path, tokenizer)
    if not template:
        raise ValueError(f"model_name_or_path: {str(path)!r} has no chat template")
    return ImageOnlyQwenVLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=template)


def load_vision_language_model(folder: str | os.PathLike[str], *, device: str | None = None,
                               dtype: Any = None) -> tuple[Any, Any]:
    """``(model, processor)`` from a local folder; safetensors only, no remote code."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor
    from transformers.utils import is_torchvision_available

    from t2v.llm import resolve_dtype

    path = Path(folder).expanduser()
    if not path.is_dir() or not (path / "config.json").is_file():
        raise ValueError(f"model_name_or_path must be a local model folder with config.json, got {str(path)!r}")
    config = AutoConfig.from_pretrained(path)
    if config.model_type in QWEN_VL_TYPES and not is_torchvision_available():
        logger.info("torchvision is not installed: %s reads frames as images, not as a video", path)
        processor = image_only_qwen_processor(path)
    else:
        processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=resolve_dtype(dtype), use_safetensors=True)
    target = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return model.to(target).eval(), processor
