"""``EditAnimateDiffPipeline``: change one thing in a video by text (and a reference image), keep the rest.

The source video is DDIM-inverted under the source prompt while an attention control records what the edit
needs from the source branch (FateZero: no live source branch is run). The target prompt is then sampled
from the inverted noise with attention control (:mod:`t2v.editing.attention`): Prompt-to-Prompt's
cross-attention replace / refine / reweight inside the cross window, the source's spatial and temporal
self-attention inside theirs, and a local blend that keeps everything outside the edited words' mask
equal to the source's latents at every step. The mask comes from the source words' maps recorded over the
inversion (the target words' own maps join only for added words, or with ``blend_edit_maps``); when the
edited words name the surroundings (a background), their region is the surround and the object is kept.
Optional null-text optimisation fits the unconditional embedding per step so guided sampling retraces the
source (its cost is reported apart).

A reference image of the new subject goes through IP-Adapter when the model has one; otherwise a new token
is learned from it (:mod:`t2v.editing.textual_inversion`) and used in the target prompt.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..editing.attention import EditControl, EditWindows, RecordSource, attention_layers, check_window
from ..editing.blend import blend_mask, to_pixels, union_mask
from ..editing.composite import keep_outside, keep_subject, keep_unchanged, names_surroundings
from ..editing.inversion import ddim_invert, null_text_optimise
from ..editing.tokens import changed_words, token_indices, token_map
from ..editing.tokens import word_weights as token_weights
from ..training.common import video_in_model_range
from .backbone import UNetBackbone
from .denoising import DenoiseLoopMixin, StepHooks
from .pipeline_output import EditPipelineOutput
from .pipeline_t2v_animatediff import T2VAnimateDiffPipeline

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.3
DEFAULT_BLEND_START = 0.2
# Chosen on the dev and dev-b splits of benchmarks/editing.py (README: Attention-controlled editing).
DEFAULT_WHOLE_FRAME_ABOVE = 0.5
DEFAULT_WHOLE_FRAME_WINDOW = (0.0, 0.6)


def as_video(frames_uint8: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """uint8 frames ``(F, H, W, 3)`` as a decoded video ``(1, 3, F, H, W)`` in [-1, 1], on ``like``'s device
    and dtype."""
    return video_in_model_range(frames_uint8).to(like)


class EditAnimateDiffPipeline(DenoiseLoopMixin, T2VAnimateDiffPipeline):
    r"""Attention-controlled video editing with AnimateDiff.

    Components are those of [`~diffusers.AnimateDiffPipeline`] (`vae`, `text_encoder`, `tokenizer`, `unet`,
    `motion_adapter`, `scheduler`, `feature_extractor`, `image_encoder`), plus the native-setting arguments
    of [`T2VAnimateDiffPipeline`]. Build it with `from_pretrained` or, from a loaded pipeline, `from_pipe`.
    The scheduler should be deterministic (DDIM) for inversion to return the source.
    """

    # Local-blend settings, chosen on the dev splits of benchmarks/editing.py (README, "Attention-controlled
    # editing"): no dilation and the source's maps alone gave tighter masks, a better-kept background and
    # more background edits that keep their object than P2P's dilated union of source and target maps.
    blend_radius = 1  # frames on each side fused into a frame's blend map
    blend_dilate = 0  # latent pixels the blend region grows by (P2P: 1)
    blend_edit_maps = False  # also unite the target words' region from the edit's own (drifting) maps

    @property
    def has_ip_adapter(self) -> bool:
        return self.image_encoder is not None and getattr(self.unet, "encoder_hid_proj", None) is not None

    def check_edit_inputs(self, frames: np.ndarray, source_prompt: str, target_prompt: str,
                          num_inference_steps: int, blend_threshold: float | None, blend_start: float,
                          guidance_scale: float, output_type: str) -> None:
        """Raise ``ValueError`` naming the argument."""
        for name, prompt in (("source_prompt", source_prompt), ("target_prompt", target_prompt)):
            if not isinstance(prompt, str) or not prompt.strip():
                raise ValueError(f"{name} must be a non-empty string, got {prompt!r}")
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) \
                or not 1 <= num_inference_steps <= 1000:
            raise ValueError(f"num_inference_steps must be in [1, 1000], got {num_inference_steps!r}")
        if blend_threshold is not None and not 0.0 <= blend_threshold <= 1.0:
            raise ValueError(f"blend_threshold must be in [0, 1] or None, got {blend_threshold!r}")
        if not 0.0 <= blend_start <= 1.0:
            raise ValueError(f"blend_start must be in [0, 1], got {blend_start!r}")
        if not np.isfinite(guidance_scale) or guidance_scale < 0:
            raise ValueError(f"guidance_scale must be a non-negative number, got {guidance_scale!r}")
        if output_type not in ("np", "pil", "pt", "latent"):
            raise ValueError(f"output_type must be 'np', 'pil', 'pt' or 'latent', got {output_type!r}")
        height, width = frames.shape[1:3]
        if height % self.vae_scale_factor or width % self.vae_scale_factor:
            raise ValueError(f"video frames must have sides divisible by {self.vae_scale_factor}, got "
                             f"{height}x{width}")
        limit = self.frame_limit
        if not 2 <= frames.shape[0] <= limit:
            raise ValueError(f"video must have 2 to {limit} frames, got {frames.shape[0]}")

    def encode_per_frame(self, prompt: str, frames: int, device: torch.device) -> torch.Tensor:
        """The prompt's embedding repeated for every frame ``(F, L, D)``, as AnimateDiff lays it out."""
        embeds, _ = self.encode_prompt(prompt, device, 1, False)
        return embeds.repeat_interleave(frames, dim=0)

    def blend_words(self, source_prompt: str, target_prompt: str, edit_words: Sequence[str] | None
                    ) -> tuple[list[str], list[str]]:
        """Source and target words whose maps make the mask: ``edit_words`` where each prompt has them,
        else the words the prompts differ by."""
        if edit_words is None:
            removed, added = changed_words(source_prompt, target_prompt)
            if not removed and not added:
                raise ValueError("target_prompt is the same as source_prompt: nothing to edit")
            return removed, added
        if isinstance(edit_words, str) or not all(isinstance(w, str) and w.strip() for w in edit_words):
            raise ValueError(f"edit_words must be a list of words, got {edit_words!r}")
        source = [w for w in edit_words if w.lower() in {x.lower() for x in source_prompt.split()}]
        target = [w for w in edit_words if w.lower() in {x.lower() for x in target_prompt.split()}]
        if not source and not target:
            raise ValueError(f"edit_words {list(edit_words)!r} are in neither the source nor the target prompt")
        return source, target

    def reference_conditioning(self, reference_image, reference_token: str, target_prompt: str, device,
                               do_cfg: bool, textual_inversion_config, cache_dir) -> dict | None:
        """IP-Adapter image embeddings (returned), or a learned ``reference_token`` installed in the text
        encoder (returns None)."""
        if reference_image is None:
            return None
        from ..editing.textual_inversion import TextualInversionConfig, as_rgb_array, learn_token

        image = as_rgb_array(reference_image)
        if self.has_ip_adapter:
            from PIL import Image

            embeds = self.prepare_ip_adapter_image_embeds(Image.fromarray(image), None, device, 1, do_cfg)
            return {"image_embeds": embeds}
        config = textual_inversion_config or TextualInversionConfig(token=reference_token)
        if config.token not in target_prompt.split():
            raise ValueError(f"target_prompt must name the reference subject as {config.token!r} when the model "
                             f"has no image encoder (got {target_prompt!r})")
        learn_token(self, image, config, cache_dir)
        return None

    @torch.no_grad()
    def __call__(
        self,
        video,
        source_prompt: str,
        target_prompt: str,
        edit_words: Sequence[str] | None = None,
        num_inference_steps: int = 25,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        negative_prompt_inversion: bool = False,
        cross_window: tuple[float, float] | None = (0.0, 0.3),
        self_window: tuple[float, float] | None = (0.0, 0.4),
        temporal_window: tuple[float, float] | None = (0.0, 0.4),
        blend_threshold: float | None = DEFAULT_THRESHOLD,
        blend_start: float = DEFAULT_BLEND_START,
        word_weights: dict[str, float] | None = None,
        mode: str = "auto",
        reference_image=None,
        reference_token: str = "<ref>",
        textual_inversion_config=None,
        cache_dir: str | os.PathLike | None = None,
        null_text: bool = False,
        max_control_query: int = 32 * 32,
        control_dtype: torch.dtype | None = torch.float16,
        recompute_source: bool = True,
        whole_frame_above: float | None = DEFAULT_WHOLE_FRAME_ABOVE,
        whole_frame_window: tuple[float, float] = DEFAULT_WHOLE_FRAME_WINDOW,
        keep_source_pixels: bool = True,
        output_type: str = "np",
        callback_on_step_end: Callable | None = None,
        return_dict: bool = True,
    ) -> EditPipelineOutput | tuple:
        r"""Edit ``video`` from ``source_prompt`` to ``target_prompt``.

        Args:
            video: the source clip: uint8 or float frames `(F, H, W, 3)`, a list of PIL images, or a tensor
                (anything `t2v.video.to_uint8_frames` reads); sides divisible by the VAE's factor.
            edit_words: the words whose region is edited (default: the words the prompts differ by).
            cross_window, self_window, temporal_window: fractions `(start, end)` of the steps in which the
                source's cross-attention maps, spatial self-attention and temporal attention are used;
                None turns one off.
            blend_threshold: local-blend threshold on the edited words' normalised maps; None edits the
                whole frame.
            blend_start: fraction of the steps after which the local blend acts (the maps settle first).
            word_weights: per-word multipliers of the target's cross-attention maps (P2P reweighting).
            mode: `"replace"` (word swap), `"refine"` (added words) or `"auto"`.
            reference_image: a picture of the new subject (IP-Adapter, else textual inversion of
                `reference_token`, which the target prompt must then contain).
            negative_prompt_inversion: with no `negative_prompt`, guide against the source prompt instead of
                the empty one (Miyake et al., Negative-prompt Inversion): where the prompts agree the guided
                sampler then follows the inversion path, at no extra cost. Off by default: on tiny-shapes it
                pushed the edit's direction into the whole masked region (dev: colour success 0.25).
            null_text: fit the unconditional embedding per step (slower; cost in `null_text_seconds`).
            max_control_query: the largest layers (queries per frame) whose attention is controlled or stored.
            control_dtype: the dtype the source's recorded queries and keys are kept in until the edit uses
                them (None: the model's). float16 halves them against float32; on the dev splits the edits came
                out with the same figures as with float32.
            recompute_source: recompute the source's queries and keys at each controlled step, from the
                inversion's own input for that step, instead of keeping every controlled step's from the
                inversion: one step's worth of memory instead of the whole window's, for one more UNet pass
                (one video, no guidance half) per controlled step. The edit is the same either way (to about
                1e-4 on the latents: the inversion computes the layers whose maps it sums explicitly).
            whole_frame_above: when the blend region (from the source words' maps) covers more than this share
                of the frame, as a background edit's does, the edit spans the whole frame instead: the islands a
                blend would keep are latent cells that carry their old surroundings (at 32×32 a cell is 4×4
                pixels around a small object), which the model cannot join to a new surround. None: never.
            whole_frame_window: the window of the source's cross, self and temporal attention (each that is not
                None) in a whole-frame edit, where attention alone keeps what is not edited.
            keep_source_pixels: return the source's own pixels where the edit keeps them, instead of the VAE's
                reconstruction of them: with a local blend, outside the mask (softened on a one-pixel rim); in a
                whole-frame edit whose words describe the surroundings (a word of, or just before, a noun of
                `t2v.editing.composite.SURROUND_NOUNS`: "black background"), the subject, keyed against the old
                surround's colour in the cells the words' region leaves out (see `keep_subject`); and
                everywhere, pixels the edit moved by no more than the VAE's error (`keep_unchanged`: 6 levels
                of 255, mixed up to 16). No effect with `output_type="latent"`.

        Returns:
            [`EditPipelineOutput`]: the edited frames, the mask video, and the time each stage took.
        """
        from ..training.common import encode_clips
        from ..video import to_uint8_frames

        start = time.perf_counter()
        frames_uint8 = to_uint8_frames(video)
        guidance_scale = self.default_guidance_scale if guidance_scale is None else float(guidance_scale)
        self.check_edit_inputs(frames_uint8, source_prompt, target_prompt, num_inference_steps, blend_threshold,
                               blend_start, guidance_scale, output_type)
        windows = EditWindows(cross=cross_window, self_attention=self_window, temporal=temporal_window,
                              max_cross_query=max_control_query, max_self_query=max_control_query)
        if whole_frame_above is not None and (isinstance(whole_frame_above, bool) or not isinstance(
                whole_frame_above, (int, float)) or not 0.0 <= whole_frame_above <= 1.0):
            raise ValueError(f"whole_frame_above must be in [0, 1] or None, got {whole_frame_above!r}")
        whole_frame_window = check_window("whole_frame_window", whole_frame_window)
        whole_frame_windows = EditWindows(
            cross=whole_frame_window if cross_window else None,
            self_attention=whole_frame_window if self_window else None,
            temporal=whole_frame_window if temporal_window else None,
            max_cross_query=max_control_query, max_self_query=max_control_query)
        device = self._execution_device
        do_cfg = guidance_scale > 1.0
        self._cross_attention_kwargs = None
        self._clip_skip = None
        self._interrupt = False
        num_frames, height, width = frames_uint8.shape[:3]

        # 1. Reference subject, words, token map
        added_cond_kwargs = self.reference_conditioning(reference_image, reference_token, target_prompt, device,
                                                        do_cfg, textual_inversion_config, cache_dir)
        source_words, target_words = self.blend_words(source_prompt, target_prompt, edit_words)
        mapping = token_map(self.tokenizer, source_prompt, target_prompt, mode)
        weights = token_weights(mapping.target_spans, word_weights, mapping.matrix.shape[0]) \
            if word_weights else None
        source_tokens = token_indices(list(mapping.source_spans), source_words) or None
        target_tokens = token_indices(list(mapping.target_spans), target_words) or None
        blending = blend_threshold is not None and (source_tokens or target_tokens)

        # 2. Prompts, source latents, timesteps
        source_embeds = self.encode_per_frame(source_prompt, num_frames, device)
        target_embeds = self.encode_per_frame(target_prompt, num_frames, device)
        dtype = source_embeds.dtype
        if negative_prompt is None and negative_prompt_inversion:
            unconditional = source_embeds
        else:
            unconditional = self.encode_per_frame(negative_prompt or "", num_frames, device)
        clean = encode_clips(self.vae, frames_uint8[None]).to(device, dtype)
        backbone = UNetBackbone.of(self)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        latent_size = (height // self.vae_scale_factor, width // self.vae_scale_factor)

        # 3. DDIM inversion under the source prompt, recording what the edit needs
        may_go_whole_frame = bool(blending and whole_frame_above is not None and source_tokens)
        record = RecordSource(len(timesteps), num_frames, latent_size,
                              windows if recompute_source or not may_go_whole_frame
                              else windows.union(whole_frame_windows),
                              blend_tokens=source_tokens if blending else None, max_store_query=max_control_query,
                              dtype=control_dtype, keep_features=not recompute_source)
        source_cond_kwargs = self.source_cond_kwargs(added_cond_kwargs, device)
        with self.ip_adapter_scale(0.0 if added_cond_kwargs else None), record.installed(self.unet):
            path = ddim_invert(self.unet, backbone, clean, source_embeds, timesteps,
                               added_cond_kwargs=source_cond_kwargs, on_step=record.begin_step)
        inversion_seconds = time.perf_counter() - start
        surround = None  # the surround words' region, when a whole-frame edit changes the surroundings
        if blending and whole_frame_above is not None and record.store is not None and record.store.count:
            region = self.word_region(record.store, blend_threshold)
            if float(region.float().mean()) > whole_frame_above:
                blending, windows = False, whole_frame_windows
                if names_surroundings(source_prompt, source_words):
                    surround = region
        record.windows = windows
        record.drop_features_outside(windows, attention_layers(self.unet))
        stock = dict(self.unet.attn_processors)
        live = RecordSource(len(timesteps), num_frames, latent_size, windows, dtype=control_dtype)
        live.features = record.features  # what the edit reads; filled a step at a time when recomputing

        def inverted_after(i: int) -> torch.Tensor:
            """The inversion's latents at the level step i reaches (the model's input at inversion step i)."""
            return path[i + 1] if i + 1 < len(path) else clean

        def recompute(i: int) -> None:
            """Step i's source queries and keys, from the input the inversion gave the model at step i."""
            record.features.clear()
            if not live.keeps_any(i):
                return
            live.begin_step(i)
            controlled = dict(self.unet.attn_processors)
            self.unet.set_attn_processor(dict(stock))  # the source pass sees no edit control
            try:
                with self.ip_adapter_scale(0.0 if added_cond_kwargs else None), live.installed(self.unet):
                    self.unet(inverted_after(i), timesteps[i],
                              encoder_hidden_states=source_embeds, added_cond_kwargs=source_cond_kwargs)
            finally:
                self.unet.set_attn_processor(controlled)

        # 4. Optional null-text optimisation (Video-P2P's decoupled guidance)
        null_embeds, null_seconds = None, 0.0
        if null_text and do_cfg:
            fit = null_text_optimise(self.unet, self.scheduler, path, clean, source_embeds, unconditional, timesteps,
                                     guidance_scale, added_cond_kwargs=source_cond_kwargs)
            null_embeds, null_seconds = fit.embeds, fit.seconds
            self.scheduler.set_timesteps(num_inference_steps, device=device)

        # 5. Edit: the target prompt from the inverted noise, under control and local blend
        edit_start = time.perf_counter()
        control = EditControl(record, mapping.matrix.to(device), weights,
                              blend_tokens=target_tokens if blending else None, cfg=do_cfg)
        first_uncond = null_embeds[0] if null_embeds is not None else unconditional
        embeds = torch.cat([first_uncond, target_embeds]) if do_cfg else target_embeds
        masks: list[torch.Tensor] = []
        blend_from = blend_start * len(timesteps)

        def after_step(i: int, t: int, latents: torch.Tensor) -> torch.Tensor:
            if not blending or i + 1 < blend_from:
                return latents
            mask = self.current_mask(record, control, blend_threshold).to(latents.device, latents.dtype)
            masks[:] = [mask]
            source = inverted_after(i)
            return source + mask[None, None] * (latents - source)

        def swap_null(pipe, i: int, t, tensors: dict) -> dict:
            if null_embeds is not None and i + 1 < len(null_embeds):
                tensors["prompt_embeds"] = torch.cat([null_embeds[i + 1], target_embeds])
            if callback_on_step_end is not None:
                tensors = callback_on_step_end(pipe, i, t, tensors) or tensors
            return tensors

        def before_step(i: int, t: int, latents: torch.Tensor) -> None:
            if recompute_source:
                recompute(i)
            control.begin_step(i)

        hooks = StepHooks(before_step=before_step, after_step=after_step)
        with control.installed(self.unet):
            latents = self.denoise(path[0], embeds, timesteps, guidance_scale, hooks=hooks,
                                   added_cond_kwargs=added_cond_kwargs,
                                   callback_on_step_end=swap_null if (null_embeds is not None
                                                                      or callback_on_step_end) else None,
                                   callback_on_step_end_tensor_inputs=("latents", "prompt_embeds"))
        edit_seconds = time.perf_counter() - edit_start

        # 6. Decode
        mask = masks[0] if masks else torch.ones(num_frames, *latent_size)
        mask_video = to_pixels(mask.float().cpu(), height, width).numpy()
        if output_type == "latent":
            out = latents
        else:
            video = self.decode_latents(latents, 16)
            if keep_source_pixels:
                source = as_video(frames_uint8, video)
                if masks:
                    video = keep_outside(video, source, torch.from_numpy(mask_video).to(video))
                elif surround is not None:
                    video = self.with_subject_kept(video, frames_uint8, surround)
                video = keep_unchanged(video, source)
            out = self.video_processor.postprocess_video(video=video, output_type=output_type)
        self.maybe_free_model_hooks()
        if not return_dict:
            return out, mask_video
        return EditPipelineOutput(frames=out, mask=mask_video, inversion_seconds=inversion_seconds,
                                  null_text_seconds=null_seconds, edit_seconds=edit_seconds,
                                  token_mode=mapping.mode, source_words=source_words, target_words=target_words)

    def with_subject_kept(self, video: torch.Tensor, source: np.ndarray, surround: torch.Tensor) -> torch.Tensor:
        """The decoded video ``(1, C, F, H, W)`` in [-1, 1] with the source's subject put back (see
        :func:`t2v.editing.composite.keep_subject`); the surround region ``(F, h, w)`` gives up a one-cell
        margin around the subject's cells first, so a subject cell's neighbours are searched too."""
        height, width = source.shape[1:3]
        subject_cells = F.max_pool2d((1 - surround.float().cpu())[:, None], 3, stride=1, padding=1)[:, 0]
        around = to_pixels(1 - subject_cells, height, width).numpy() > 0.5
        edited = np.rint(((video[0].permute(1, 2, 3, 0).float().cpu().numpy() + 1) * 127.5).clip(0, 255))
        kept = keep_subject(edited.astype(np.uint8), source, around)
        if kept is None:
            return video
        return as_video(kept, video)

    def current_mask(self, record: RecordSource, control: EditControl, threshold: float) -> torch.Tensor:
        """The local-blend mask ``(F, h, w)``: the source words' region (over the inversion) united with
        the target words' region (over the edit's steps so far)."""
        stores = [store for store in (record.store, control.store) if store is not None and store.count]
        if not self.blend_edit_maps and len(stores) > 1:
            stores = stores[:1]
        return union_mask([self.word_region(store, threshold) for store in stores])

    def word_region(self, store, threshold: float) -> torch.Tensor:
        """The region ``(F, h, w)`` of one store's summed word maps, by the pipeline's blend settings."""
        return blend_mask(store.mean()[0], threshold, radius=self.blend_radius, dilate=self.blend_dilate)

    def source_cond_kwargs(self, added_cond_kwargs: dict | None, device) -> dict | None:
        """The inversion's ``added_cond_kwargs``: with an IP-Adapter loaded the UNet needs image embeddings
        on every call, so the source runs with an empty one (and the adapter's scale at 0)."""
        if not added_cond_kwargs:
            return None
        return {"image_embeds": [torch.zeros_like(e[-1:]) for e in added_cond_kwargs["image_embeds"]]}

    def ip_adapter_scale(self, scale: float | None):
        """Hold every IP-Adapter's scale at ``scale`` for a ``with`` block, then put the user's back."""
        from contextlib import nullcontext

        from .pipeline_multiscene import MultiSceneAnimateDiffPipeline

        if scale is None:
            return nullcontext()
        # the multi-scene pipeline's context (a candidate for a shared IP-Adapter mixin) does exactly this
        return MultiSceneAnimateDiffPipeline.ip_adapter_off(self, True)
