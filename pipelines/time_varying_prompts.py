"""Time-varying prompts (Phenaki): each frame gets its own text embedding, interpolated between keyed prompts.

diffusers' AnimateDiff repeats one prompt embedding for every frame. ``{0: "a red ball moving right",
7: "a red ball bouncing"}`` instead gives frame 0 the first prompt, frame 7 the second, and the frames
between a linear blend of the two, as diffusers' FreeNoise prompt interpolation does (tested for parity);
unlike FreeNoise it needs no context windows, so it works on any AnimateDiff UNet. The multi-scene and
transition pipelines share it.
"""

from __future__ import annotations

import torch


def check_prompt_keys(prompt: str | dict[int, str], num_frames: int, name: str = "prompt") -> dict[int, str]:
    """``prompt`` as ``{frame: text}``, sorted; a plain string keys frame 0."""
    keys = {0: prompt} if isinstance(prompt, str) else prompt
    if not isinstance(keys, dict) or not keys:
        raise ValueError(f"{name} must be a string or a non-empty dict of frame index -> text, got {prompt!r}")
    for frame, text in keys.items():
        if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < num_frames:
            raise ValueError(f"{name} keys must be frame indices in [0, {num_frames - 1}], got {frame!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name}[{frame}] must be a non-empty string")
    return dict(sorted(keys.items()))


def interpolate_keyed(keyed: dict[int, torch.Tensor], num_frames: int) -> torch.Tensor:
    """Per-frame tensors ``(F, ...)`` from tensors at key frames: constant before the first key and after the
    last, linear in between."""
    frames = sorted(keyed)
    out = []
    for f in range(num_frames):
        if f <= frames[0]:
            out.append(keyed[frames[0]])
        elif f >= frames[-1]:
            out.append(keyed[frames[-1]])
        else:
            right = next(k for k in frames if k >= f)
            left = max(k for k in frames if k <= f)
            alpha = 0.0 if right == left else (f - left) / (right - left)
            out.append((1 - alpha) * keyed[left] + alpha * keyed[right])
    return torch.stack(out)


class TimeVaryingPromptMixin:
    """For pipelines that derive from diffusers' ``AnimateDiffPipeline`` (uses its ``encode_prompt``)."""

    def encode_time_varying_prompt(
        self,
        prompt: str | dict[int, str],
        num_frames: int,
        device: torch.device,
        do_classifier_free_guidance: bool,
        negative_prompt: str | None = None,
        num_videos_per_prompt: int = 1,
        clip_skip: int | None = None,
    ) -> torch.Tensor:
        """Embeddings for every frame, in the UNet's layout: ``(videos·F, L, D)``, videos outer and frames
        inner, with the negative half first under classifier-free guidance."""
        keys = check_prompt_keys(prompt, num_frames)
        texts = list(keys.values())
        embeds, _ = self.encode_prompt(texts, device, 1, False, clip_skip=clip_skip)
        per_frame = interpolate_keyed(dict(zip(keys, embeds, strict=True)), num_frames)
        per_frame = per_frame.repeat(num_videos_per_prompt, 1, 1)
        if not do_classifier_free_guidance:
            return per_frame
        _, negative = self.encode_prompt(texts[0], device, 1, True, negative_prompt or "", clip_skip=clip_skip)
        negative = negative.repeat(num_videos_per_prompt * num_frames, 1, 1)
        return torch.cat([negative, per_frame])
