"""``MultiSceneAnimateDiffPipeline``: a script of scenes becomes one video, each scene continuing the last.

The script (:class:`t2v.story.Script`) comes from a planner or a user; this pipeline generates its scenes
in order with AnimateDiff, and adds:

* continuity between scenes (MTVG; :mod:`t2v.pipelines.continuity`): boundary noise, dynamic noise and
  structure guidance, each on or off;
* time-varying prompts inside a scene (Phenaki; :mod:`t2v.pipelines.time_varying_prompts`);
* entity reference images through IP-Adapter, when the model has an image encoder;
* per-scene seeds derived from one seed, and a safetensors sidecar of each scene's boundary state, so one
  scene can be regenerated alone and continue from the same state;
* a self-check: each scene is scored by a judge the caller passes in (``judge(frames, prompt) -> score``)
  and regenerated with its next seed while under ``threshold``, keeping the best try.

Finished clips leave the device as ``uint8`` at once, and go to ``clips_dir`` as they finish when one is
given, so memory does not grow with the story.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from diffusers.utils.torch_utils import randn_tensor
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm.auto import tqdm

from .continuity import (
    ContinuityConfig,
    SceneBoundary,
    boundary_shares,
    mix_boundary_noise,
    structure_pull,
    structure_steps,
)
from .denoising import DenoiseLoopMixin, StepHooks
from .masked_frames import MaskedFramesMixin, checked_guide_strength, checked_share, is_default
from .pipeline_output import MultiScenePipelineOutput
from .pipeline_t2v_animatediff import T2VAnimateDiffPipeline
from .pipeline_t2v_wan import T2VWanPipeline
from .time_varying_prompts import TimeVaryingPromptMixin
from .wan_frame_prompts import WanTimeVaryingPromptMixin

logger = logging.getLogger(__name__)

Judge = Callable[[np.ndarray, str], float]
DEFAULT_THRESHOLD = 0.75
MAX_SCENE_FRAMES = 256
TRANSITION_SALT = 7919  # separates a transition's seed from the scenes' seeds
MAX_TRIES_LIMIT = 20


def derive_seed(*parts: int) -> int:
    """A stable 31-bit seed from integers (the script's seed, a scene index, a try index)."""
    return int(np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(1)[0] >> 1)


def scene_reference(script, scene) -> str | None:
    """The reference image of the scene's first entity that has one (IP-Adapter takes one image a pass)."""
    return next((e.reference_image for e in script.entities if e.name in scene.entities and e.reference_image),
                None)


def scene_seeds(script, index: int, tries: int) -> list[int]:
    """The seeds a scene's tries use: its own (stated in the script, else derived from the script's seed and
    its index) first, then seeds derived from that one."""
    first = script.scenes[index].seed
    if first is None:
        first = derive_seed(script.seed or 0, index)
    return [first] + [derive_seed(first, attempt) for attempt in range(1, tries)]


class MultiSceneMixin:
    """The story technique, written once for every backbone: a pipeline class combines it with the masked
    frames, time-varying prompt and denoising mixins and a t2v base pipeline (AnimateDiff or Wan, below)."""

    def check_story_inputs(self, script, num_inference_steps: int, check: bool, judge: Judge | None,
                           max_tries: int, threshold: float, scenes: Sequence[int] | None,
                           boundary_path: str | os.PathLike | None, continuity: ContinuityConfig) -> list[int]:
        """Raise ``ValueError`` naming the argument; return the indices of the scenes to generate."""
        script.validate()
        if not isinstance(num_inference_steps, int) or not 1 <= num_inference_steps <= 1000:
            raise ValueError(f"num_inference_steps must be in [1, 1000], got {num_inference_steps!r}")
        if check and judge is None:
            raise ValueError("check=True needs a judge: judge(frames, prompt) -> score in [0, 1]")
        if judge is not None and not callable(judge):
            raise ValueError(f"judge must be callable, got {type(judge).__name__}")
        if not 1 <= max_tries <= MAX_TRIES_LIMIT:
            raise ValueError(f"max_tries must be in [1, {MAX_TRIES_LIMIT}], got {max_tries}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        for i, scene in enumerate(script.scenes):
            frames = scene.frames or self.default_num_frames
            if frames > MAX_SCENE_FRAMES:
                raise ValueError(f"scenes[{i}].frames is {frames}, more than {MAX_SCENE_FRAMES}")
        if scenes is not None and (isinstance(scenes, (str, bytes)) or not isinstance(scenes, Sequence) or any(
                isinstance(k, bool) or not isinstance(k, int) for k in scenes)):
            raise ValueError(f"scenes must be a list of scene indices, got {scenes!r}")
        chosen = list(range(len(script.scenes))) if scenes is None else sorted(set(scenes))
        if not chosen or any(not 0 <= k < len(script.scenes) for k in chosen):
            raise ValueError(f"scenes must be indices in [0, {len(script.scenes) - 1}], got {scenes!r}")
        for i, scene in enumerate(script.scenes):
            first_window = min(scene.frames or self.default_num_frames, self.frame_limit)
            if any(k >= first_window for k in scene.prompt_keys or {}):
                raise ValueError(f"scenes[{i}].prompt_keys must key frames below {first_window} (one model pass)")
        needed = [k - 1 for k in chosen if k > 0 and k - 1 not in chosen] if continuity.enabled else []
        if needed:
            if boundary_path is None or not Path(boundary_path).is_file():
                raise ValueError(f"boundary_path must name the boundary file of a full run to regenerate scene "
                                 f"{needed[0] + 1} with continuity (got {boundary_path!r})")
            missing = [k for k in needed if k not in load_boundaries(boundary_path)]
            if missing:
                raise ValueError(f"boundary_path {boundary_path} has no boundary for scene(s) {missing}: regenerate "
                                 "from the run that wrote it, or regenerate those scenes too")
        if continuity.noise_init == "inversion" and getattr(self, "unet", None) is None:
            raise ValueError("continuity.noise_init='inversion' needs a UNet model (DDIM inversion); use 'recorded' "
                             "on this model")
        for i, scene in enumerate(script.scenes):
            try:
                self.check_frame_count(min(scene.frames or self.default_num_frames, self.frame_limit))
            except ValueError as err:
                raise ValueError(f"scenes[{i}].frames: {err}") from None
        if continuity.enabled and float(self.start_noise_scale) != 1.0:
            raise ValueError(f"continuity needs a scheduler whose starting noise has unit scale (DDIM, DDPM, "
                             f"DPM-Solver); {type(self.scheduler).__name__} has {self.start_noise_scale}: "
                             "pass continuity=ContinuityConfig.off() or switch schedulers")
        return chosen

    # -- one scene -------------------------------------------------------------------------------

    def reference_image_embeds(self, script, scene, device, do_cfg: bool):
        """IP-Adapter embeddings of the scene's first entity that has a reference image, when the model can
        take them (None otherwise, with a log line once); a scene without one gets an empty embedding, which
        :meth:`ip_adapter_off` keeps from acting."""
        path = scene_reference(script, scene)
        if path and not self.has_ip_adapter and not getattr(self, "_warned_no_image_encoder", False):
            logger.warning("this model has no image encoder with an IP-Adapter: entity reference images are not used")
            self._warned_no_image_encoder = True
        if not self.has_ip_adapter:
            return None
        if path is None:
            return self.empty_image_embeds(device, do_cfg)
        from PIL import Image

        with Image.open(path) as image:
            reference = image.convert("RGB")
        return self.prepare_ip_adapter_image_embeds(reference, None, device, 1, do_cfg)

    def generate_scene(
        self,
        script,
        index: int,
        seed: int,
        boundary: SceneBoundary | None,
        *,
        num_inference_steps: int,
        guidance_scale: float,
        negative_prompt: str | None,
        height: int,
        width: int,
        continuity: ContinuityConfig,
        callback_on_step_end: Callable | None,
        callback_on_step_end_tensor_inputs: Sequence[str],
    ) -> tuple[np.ndarray, SceneBoundary]:
        """One scene's frames, ``uint8 (F, H, W, 3)``, and its boundary for the next scene."""
        scene = script.scenes[index]
        device = self._execution_device
        total = scene.frames or self.default_num_frames
        frames = min(total, self.frame_limit)  # the first window; continuation makes the rest
        do_cfg = guidance_scale > 1.0
        keys = {0: scene.prompt, **(scene.prompt_keys or {})}
        prompt = {k: text for k, text in keys.items() if k < frames}
        embeds = self.encode_time_varying_prompt(prompt, frames, device, do_cfg, negative_prompt)
        image_embeds = self.reference_image_embeds(script, scene, device, do_cfg)
        added_cond_kwargs = {"image_embeds": image_embeds} if image_embeds is not None else None

        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        generator = torch.Generator(device="cpu").manual_seed(seed)
        latents = randn_tensor(self.latent_shape(frames, height, width), generator=generator,
                               device=torch.device("cpu"), dtype=self.noise_dtype(embeds)).to(device)
        anchor = None
        if boundary is not None and continuity.enabled:
            anchor = boundary.last_clean.to(device, latents.dtype)
            if continuity.noise_init is not None:
                boundary_noise = self.boundary_noise(boundary, continuity, embeds, frames, timesteps, do_cfg,
                                                     image_embeds)
                latents = mix_boundary_noise(latents, boundary_noise,
                                             boundary_shares(latents.shape[2], continuity))
        latents = latents * self.start_noise_scale
        initial_last = latents[:, :, -1:].detach().cpu()

        guided = structure_steps(len(timesteps), continuity)
        hooks = StepHooks()
        if guided:
            def pull(i: int, t: int, clean: torch.Tensor) -> torch.Tensor:
                if i >= guided:
                    return clean
                return structure_pull(clean, anchor, continuity.structure_guidance)

            hooks.on_clean_estimate = pull
        no_reference = image_embeds is not None and scene_reference(script, scene) is None
        with self.ip_adapter_off(no_reference):
            latents = self.denoise(latents, embeds, timesteps, guidance_scale, added_cond_kwargs=added_cond_kwargs,
                                   extra_step_kwargs=self.prepare_extra_step_kwargs(generator, 0.0), hooks=hooks,
                                   callback_on_step_end=callback_on_step_end,
                                   callback_on_step_end_tensor_inputs=tuple(callback_on_step_end_tensor_inputs))
        video = self.decode_to_uint8(latents)
        next_boundary = SceneBoundary(last_clean=latents[:, :, -1:].detach().cpu(), last_noise=initial_last)
        if total > frames:  # longer than one pass: carry on a window at a time from the scene's last frames
            record: dict = {}
            prompt_now = keys[max(k for k in keys if k < frames)]
            rest = self.continue_frames(video, prompt_now, total - frames, context=self.default_context,
                                        num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                                        negative_prompt=negative_prompt, generator=generator, record=record)
            video = np.concatenate([video, rest])
            next_boundary = SceneBoundary(last_clean=record["latents"][:, :, -1:],
                                          last_noise=record["start_latents"][:, :, -1:])
        return video, next_boundary

    def boundary_noise(self, boundary: SceneBoundary, continuity: ContinuityConfig, embeds: torch.Tensor,
                       frames: int, timesteps: torch.Tensor, do_cfg: bool, image_embeds=None) -> torch.Tensor:
        """The previous scene's last frame brought back to noise: its recorded starting noise, or its clean
        latents DDIM-inverted under this scene's prompt (as a still clip of this scene's length)."""
        device = embeds.device
        if continuity.noise_init == "recorded":
            return boundary.last_noise.to(device, self.noise_dtype(embeds))
        from ..editing.inversion import ddim_invert

        still = boundary.last_clean.to(device, embeds.dtype).repeat(1, 1, self.backbone.num_latent_frames(frames),
                                                                    1, 1)
        conditional = embeds[embeds.shape[0] // 2:] if do_cfg else embeds
        added = None
        if image_embeds is not None:  # the conditional half, as for the text
            added = {"image_embeds": [e[e.shape[0] // 2:] if do_cfg else e for e in image_embeds]}
        return ddim_invert(self.unet, self.backbone, still, conditional, timesteps, added_cond_kwargs=added)[0]

    # -- the story -------------------------------------------------------------------------------

    @torch.no_grad()
    def __call__(
        self,
        script,
        num_inference_steps: int = 25,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        height: int | None = None,
        width: int | None = None,
        continuity: ContinuityConfig | None = None,
        judge: Judge | None = None,
        check: bool = False,
        max_tries: int = 3,
        threshold: float = DEFAULT_THRESHOLD,
        scenes: Sequence[int] | None = None,
        boundary_path: str | os.PathLike | None = None,
        clips_dir: str | os.PathLike | None = None,
        transitions: bool = False,
        transition_frames: int = 4,
        transition_guide: tuple[float, float] | None | str = "default",
        transition_share: float | None | str = "default",
        output_type: str = "np",
        callback_on_step_end: Callable | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
        return_dict: bool = True,
    ) -> MultiScenePipelineOutput | tuple:
        r"""Generate every scene of ``script`` (or only ``scenes``) in order.

        Args:
            script: a [`t2v.story.Script`]; seeds, scores and tries are written back into it.
            continuity: what carries over between scenes (default: every part on); `ContinuityConfig.off()`
                generates each scene independently.
            judge: `judge(frames_uint8, prompt) -> score in [0, 1]`, scoring each scene; with `check=True` a
                scene under `threshold` is regenerated with its next seed, up to `max_tries`, keeping the best.
            scenes: regenerate only these scene indices; a scene after the first continues from the boundary
                file of the full run (`boundary_path`).
            boundary_path: safetensors file of each scene's boundary state; written after each scene, read to
                regenerate a scene alone.
            clips_dir: write each clip there as `scene_01.mp4`, … as it finishes; the output then holds paths.
            transitions: put `transition_frames` generated frames between consecutive scenes (masked temporal
                inpainting from one scene's last frame to the next one's first, prompts moving from one scene's
                to the next's). Continuity decides how the next scene starts, since that scene is generated
                first; the transition is generated afterwards between the two fixed ends, so it never changes
                a scene, it only adds frames between them.
            transition_guide: the bridges' dissolve guide (``guide_strength`` of
                :meth:`~t2v.pipelines.masked_frames.MaskedFramesMixin.bridge_frames`): ``"default"`` is the
                pipeline's ((0, 0.3) on AnimateDiff, chosen on transition pairs without a transition prompt
                too), None unguided.
            transition_share: how much of what the model drew the bridges show over the dissolve
                (``generated_share`` of :meth:`~t2v.pipelines.masked_frames.MaskedFramesMixin.bridge_frames`):
                ``"default"`` is the pipeline's (0.3 on AnimateDiff, chosen on transition pairs with and without
                a transition prompt; story bridges have none), None the model's frames as decoded.
            output_type: `"np"` (float in [0, 1]) or `"pil"`.
        """
        continuity = ContinuityConfig() if continuity is None else continuity
        guidance_scale = self.default_guidance_scale if guidance_scale is None else guidance_scale
        chosen = self.check_story_inputs(script, num_inference_steps, check, judge, max_tries, threshold, scenes,
                                         boundary_path, continuity)
        if output_type not in ("np", "pil"):
            raise ValueError(f"output_type must be 'np' or 'pil', got {output_type!r}")
        if transitions:
            self.check_bridge_length(transition_frames, 2, "transition_frames")
            if transition_guide is not None and not is_default(transition_guide):
                checked_guide_strength(transition_guide, "transition_guide")
            if not is_default(transition_share):
                checked_share(transition_share, "transition_share")
        height, width = height or self.native_frame_size[0], width or self.native_frame_size[1]
        for name, value in (("height", height), ("width", width)):
            if value % self.size_multiple:
                raise ValueError(f"{name} must be a multiple of {self.size_multiple} on this model, got {value}")
        self._cross_attention_kwargs = None
        self._clip_skip = None
        self._interrupt = False

        stored = load_boundaries(boundary_path) if boundary_path and Path(boundary_path).is_file() else {}
        boundary = stored.get(chosen[0] - 1) if chosen[0] > 0 else None
        clips: list = []
        bridges: list = []
        kept: list[np.ndarray] = []
        config = getattr(self, "_progress_bar_config", {})
        scenes_bar = tqdm(total=len(chosen), desc="scenes", unit="scene", disable=config.get("disable", False))
        last_frame = None  # the previous scene's last frame, when it was made in this call
        for index in chosen:
            scene = script.scenes[index]
            if index - 1 in stored and index - 1 not in chosen:
                boundary = stored[index - 1]
            tries = []
            best = None
            for seed in scene_seeds(script, index, max_tries if check else 1):
                frames, next_boundary = self.generate_scene(
                    script, index, seed, boundary, num_inference_steps=num_inference_steps,
                    guidance_scale=guidance_scale, negative_prompt=negative_prompt, height=height, width=width,
                    continuity=continuity, callback_on_step_end=callback_on_step_end,
                    callback_on_step_end_tensor_inputs=callback_on_step_end_tensor_inputs)
                score = float(judge(frames, scene.prompt)) if judge is not None else None
                tries.append({"seed": seed, "score": score})
                if best is None or (score is not None and score > best[2]):
                    best = (frames, next_boundary, score, seed)
                if not check or score >= threshold:
                    break
            previous_end = None
            if transitions and boundary is not None:  # the last frame made in this call, else the stored boundary's
                previous_end = last_frame if last_frame is not None else self.boundary_frame(boundary)
            frames, boundary, score, seed = best
            last_frame = frames[-1:]
            scene.seed, scene.score = seed, score
            if previous_end is not None:
                bridge = self.bridge_frames(
                    previous_end, frames[:1], script.scenes[index - 1].prompt, scene.prompt, transition_frames,
                    guide_strength=transition_guide, generated_share=transition_share,
                    num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                    negative_prompt=negative_prompt,
                    generator=torch.Generator().manual_seed(derive_seed(script.seed or 0, index, TRANSITION_SALT)))
                if clips_dir is not None:
                    name = f"transition_{index:02d}_{index + 1:02d}.mp4"
                    bridges.append(self.write_clip(bridge, Path(clips_dir) / name))
                else:
                    bridges.append(bridge)
                    kept.append(bridge)
            scene.tries = tries if judge is not None else []
            if boundary_path is not None:
                stored[index] = boundary
                save_boundaries(boundary_path, stored)
            if clips_dir is not None:
                clips.append(self.write_clip(frames, Path(clips_dir) / f"scene_{index + 1:02d}.mp4"))
            else:
                clips.append(frames)
                kept.append(frames)
            scenes_bar.update()
        scenes_bar.close()
        joined = np.concatenate(kept) if kept else None
        self.maybe_free_model_hooks()
        if output_type == "pil":
            from PIL import Image

            convert = (lambda v: [Image.fromarray(f) for f in v])  # noqa: E731
        else:
            convert = (lambda v: v.astype(np.float32) / 255.0)  # noqa: E731
        out_frames = None if joined is None else (
            [convert(joined)] if output_type == "pil" else convert(joined)[None])
        out_clips = [c if isinstance(c, Path) else convert(c) for c in clips]
        out_bridges = [c if isinstance(c, Path) else convert(c) for c in bridges]
        if not return_dict:
            return out_frames, out_clips, script, out_bridges
        return MultiScenePipelineOutput(frames=out_frames, clips=out_clips, script=script, transitions=out_bridges)

    @torch.no_grad()
    def boundary_frame(self, boundary: SceneBoundary) -> np.ndarray:
        """The previous scene's last frame, decoded from its boundary latents, for a scene generated in an
        earlier call: uint8 ``(1, H, W, 3)``. Exact on AnimateDiff; on Wan the last latent frame holds 4 frames
        and decodes alone as a first frame, so this is an approximation there."""
        latents = boundary.last_clean.to(self._execution_device, self.vae.dtype)
        return self.decode_to_uint8(latents)

    def write_clip(self, frames: np.ndarray, path: Path) -> Path:
        from t2v.video import write_video

        path.parent.mkdir(parents=True, exist_ok=True)
        return write_video(frames, path, fps=self.default_fps)


class MultiSceneAnimateDiffPipeline(MultiSceneMixin, MaskedFramesMixin, TimeVaryingPromptMixin, DenoiseLoopMixin,
                                    T2VAnimateDiffPipeline):
    r"""Multi-scene text-to-video with AnimateDiff.

    Components are those of [`~diffusers.AnimateDiffPipeline`] (`vae`, `text_encoder`, `tokenizer`, `unet`,
    `motion_adapter`, `scheduler`, `feature_extractor`, `image_encoder`), plus the native-setting arguments
    of [`T2VAnimateDiffPipeline`]. Build it with `from_pretrained` or, from a loaded pipeline, `from_pipe`.
    """


class MultiSceneWanPipeline(MultiSceneMixin, MaskedFramesMixin, WanTimeVaryingPromptMixin, DenoiseLoopMixin,
                            T2VWanPipeline):
    r"""Multi-scene text-to-video with a Wan text-to-video model: the same continuity (boundary noise from the
    recorded start noise, dynamic noise, structure guidance, all on latent frames) and per-latent-frame
    prompts. DDIM inversion (``noise_init="inversion"``) and entity reference images are refused or unused
    here. Scene frame counts are ``4k+1``.

    Components are those of [`T2VWanPipeline`]. Build it with `from_pretrained` or `from_pipe`.
    """


def save_boundaries(path: str | os.PathLike, boundaries: dict[int, SceneBoundary]) -> Path:
    """Write every scene's boundary state to one safetensors file, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for index, state in boundaries.items():
        tensors[f"scene_{index}.last_clean"] = state.last_clean.contiguous()
        tensors[f"scene_{index}.last_noise"] = state.last_noise.contiguous()
    partial = path.with_name(path.name + ".tmp")
    save_file(tensors, str(partial), metadata={"format": "t2v-scene-boundaries"})
    partial.replace(path)
    return path


def load_boundaries(path: str | os.PathLike) -> dict[int, SceneBoundary]:
    """The boundary states :func:`save_boundaries` wrote, by scene index."""
    found: dict[int, dict[str, torch.Tensor]] = {}
    with safe_open(str(path), "pt") as f:
        if (f.metadata() or {}).get("format") != "t2v-scene-boundaries":
            raise ValueError(f"boundary_path {path} is not a t2v scene-boundary file")
        for key in f.keys():
            scene, _, name = key.partition(".")
            found.setdefault(int(scene.removeprefix("scene_")), {})[name] = f.get_tensor(key)
    return {index: SceneBoundary(**parts) for index, parts in found.items()}
