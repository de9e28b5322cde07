"""Caching the Wan transformer between denoising steps, with diffusers' own hooks.

Neighbouring denoising steps of a video diffusion transformer compute nearly the same thing, so a step can
reuse the last one's work. Three of diffusers' caches are wired up for Wan (``transformer.enable_cache``, on
both experts of a two-expert model):

* ``"first-block"`` (:class:`~diffusers.FirstBlockCacheConfig`): runs the first block; when its residual
  changed by less than ``threshold`` (relative mean absolute change) since the last full step, the other blocks
  are skipped and their cached residual is added. Default threshold **0.05**: diffusers' default and the
  careful end of the 0.05–0.1 that ParaAttention suggests for video models (0.1 skips more, drifts more).
* ``"mag"`` (:class:`~diffusers.MagCacheConfig`): skips whole steps while the accumulated error predicted
  from the model's *magnitude ratios* (how the residual's norm changes step to step, measured once per
  checkpoint by ``t2v cache calibrate``) stays under ``threshold``. Defaults: threshold **0.06**, at most
  **3** steps skipped in a row, the first **20 %** of steps never skipped: diffusers' defaults, more careful
  than MagCache's own Wan 2.1 settings (0.12, 2), which trade more drift for speed.
* ``"taylorseer"`` (:class:`~diffusers.TaylorSeerCacheConfig`): runs the full model every ``cache_interval``
  steps and, in between, predicts the output projection by a Taylor expansion over the last full steps while
  the blocks are skipped. Defaults: interval **5**, **3** warm-up steps, first order: diffusers' defaults
  (and the paper's N=5, O=1). The factors are kept in the model's dtype (diffusers' bfloat16 default would
  round an fp32 model's features), and the hooks go on ``proj_out`` and ``blocks.N``: diffusers' default
  patterns (``blocks.*attn``) match none of Wan's modules (``attn1``, ``attn2``), which would cache nothing.

The caches keep state per denoising call (``cache_context("cond"/"uncond")``, which
:func:`~t2v.pipelines.wan_model_call.wan_velocity` and diffusers' Wan pipelines open). A small guard hook on
the first block starts that state afresh whenever a call's step index does not move forward — a new
sampling run (a new scene of a story, the next clip of a batch) or a repeated step — so nothing is carried
from one run into another; and for MagCache it hands the hook the loop's own step index and step count,
so ratios calibrated at one number of steps serve another (and each expert of a two-expert model reads its
ratios at the global step).

Caching is for sampling only. Training (reward fine-tuning) must run the full model with gradients, and
RePaint resampling re-runs a step, which the caches would read as the next one: both run inside
:func:`caching_disabled`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

CACHE_KINDS: tuple[str, ...] = ("first-block", "mag", "taylorseer")

FIRST_BLOCK_DEFAULTS: dict[str, Any] = {"threshold": 0.05}
MAG_DEFAULTS: dict[str, Any] = {"threshold": 0.06, "max_skip_steps": 3, "retention_ratio": 0.2}
TAYLORSEER_DEFAULTS: dict[str, Any] = {"cache_interval": 5, "disable_cache_before_step": 3,
                                       "disable_cache_after_step": None, "max_order": 1}
DEFAULTS: dict[str, dict[str, Any]] = {"first-block": FIRST_BLOCK_DEFAULTS, "mag": MAG_DEFAULTS,
                                       "taylorseer": TAYLORSEER_DEFAULTS}

MAG_RATIOS_FILE = "mag_ratios.json"
MAG_RATIOS_FORMAT = "t2v-mag-ratios/1"
EXPERTS: tuple[str, ...] = ("transformer", "transformer_2")

_GUARD_HOOK = "t2v_cache_guard"
_NEVER = 10**9  # a step count no run reaches: MagCache's calibration mode then never wraps (nor prints)


# -- checking what was asked ----------------------------------------------------------------------------------

def _check_option(kind: str, key: str, value: Any) -> None:
    def bad(expected: str) -> ValueError:
        return ValueError(f"cache_options[{key!r}] must be {expected} for cache {kind!r}, got {value!r}")

    is_int = isinstance(value, int) and not isinstance(value, bool)
    if key == "threshold":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise bad("a non-negative number")
    elif key == "retention_ratio":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise bad("a number in [0, 1]")
    elif key in ("max_skip_steps", "disable_cache_before_step", "max_order"):
        if not is_int or value < 0:
            raise bad("a non-negative integer")
    elif key == "cache_interval":
        if not is_int or value < 1:
            raise bad("a positive integer")
    elif key == "disable_cache_after_step":
        if value is not None and (not is_int or value < 0):
            raise bad("a non-negative integer or None")


def check_cache(cache: Any, options: Mapping[str, Any] | None = None) -> str | None:
    """``cache`` (None, or one of :data:`CACHE_KINDS`) when it and ``options`` are valid; a ValueError naming the
    argument otherwise. ``options`` override the kind's defaults (:data:`DEFAULTS`)."""
    if cache is None:
        if options:
            raise ValueError(f"cache_options are for a cache; cache is None, got cache_options={dict(options)!r}")
        return None
    if cache not in CACHE_KINDS:
        allowed = ", ".join(repr(kind) for kind in CACHE_KINDS)
        raise ValueError(f"cache must be None or one of {allowed}, got {cache!r}")
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"cache_options must be a dict, got {options!r}")
    for key, value in (options or {}).items():
        if key not in DEFAULTS[cache]:
            raise ValueError(f"cache_options[{key!r}] is not a setting of cache {cache!r}; it takes "
                             f"{', '.join(DEFAULTS[cache])}")
        _check_option(cache, key, value)
    return cache


def refuse_cache_on_unet(cache: str | None, model: str) -> None:
    """The caches skip transformer blocks; a UNet has none (and diffusers' hooks find nothing to cache)."""
    if cache is not None:
        raise ValueError(f"cache {cache!r} is for Wan (transformer) models; {model!r} is a UNet (AnimateDiff) model")


def check_cache_for(cache: str | None, pipeline_class: str) -> None:
    """The Wan pipeline classes a cache can run on, by name (known from the configs, before loading weights)."""
    if cache is None:
        return
    if pipeline_class == "WanVACEPipeline" and cache in ("first-block", "mag"):
        raise ValueError(f"cache {cache!r} does not fit a VACE model: its control hints are added between the "
                         "blocks, outside what the cache skips, so a skipped step would add them twice; use "
                         "'taylorseer'")
    if pipeline_class == "WanImageToVideoPipeline" and cache == "mag":
        raise ValueError("cache 'mag' needs the step index at each denoising call, which diffusers' "
                         "WanImageToVideoPipeline does not pass; use 'first-block' or 'taylorseer'")


# -- magnitude ratios: where they live, reading and writing them ------------------------------------------------

def default_mag_ratios_path(model: str) -> Path:
    """Where a model's magnitude ratios go: ``mag_ratios.json`` in a local model folder, else
    ``$T2V_CACHE/mag_ratios/<owner>--<name>.json`` (``~/.cache/t2v``) for a hub id."""
    from ..disk_cache import cache_root
    from .wan import is_local

    if is_local(model):
        return Path(model).expanduser() / MAG_RATIOS_FILE
    return cache_root() / "mag_ratios" / (model.replace("/", "--") + ".json")


def _missing_ratios(path: Path, model: str | None) -> FileNotFoundError:
    command = f"t2v cache calibrate --model {model}" if model else "t2v cache calibrate --model MODEL"
    return FileNotFoundError(f"cache 'mag' needs the model's magnitude ratios, and there are none at {path}: run "
                             f"`{command}` first (or pass mag_ratios / --mag-ratios FILE)")


def load_mag_ratios(path: str | os.PathLike[str], model: str | None = None) -> dict[str, Any]:
    """The ratios file written by :func:`save_mag_ratios`, checked; a FileNotFoundError that says to run
    ``t2v cache calibrate`` when it is missing, a ValueError when it is not a ratios file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise _missing_ratios(path, model)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"mag_ratios {str(path)!r} is not a readable JSON file ({err})") from err
    if not isinstance(data, dict) or data.get("format") != MAG_RATIOS_FORMAT or not isinstance(
            data.get("experts"), dict) or not data["experts"]:
        raise ValueError(f"mag_ratios {str(path)!r} is not a t2v magnitude-ratios file ({MAG_RATIOS_FORMAT}); "
                         "write one with `t2v cache calibrate`")
    for expert, by_call in data["experts"].items():
        if expert not in EXPERTS or not isinstance(by_call, dict) or "cond" not in by_call:
            raise ValueError(f"mag_ratios {str(path)!r}: experts[{expert!r}] must be a transformer name with "
                             "'cond' ratios")
        for call, ratios in by_call.items():
            if not isinstance(ratios, list) or not ratios or not all(
                    isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r) and r > 0
                    for r in ratios):
                raise ValueError(f"mag_ratios {str(path)!r}: experts[{expert!r}][{call!r}] must be a non-empty "
                                 "list of positive numbers")
    return data


def save_mag_ratios(data: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ratios atomically (a temp file in the same folder, then a rename)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(dict(data), out, indent=1)
            out.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- the guard hook --------------------------------------------------------------------------------------------

@dataclass
class _Recipe:
    """What is enabled on one expert, so :func:`caching_disabled` can put it back."""

    kind: str
    options: dict[str, Any]
    ratios: dict[str, list[float]] | None = None  # MagCache, by call name ("cond", "uncond")
    calibrate: bool = False
    config: Any = None
    guard: Any = None


@functools.cache
def _guard_class():
    """The guard's class, built on first use: diffusers' hooks stay unimported until a cache is asked for."""
    from diffusers.hooks.hooks import BaseState, ModelHook, StateManager
    from diffusers.hooks.mag_cache import nearest_interp

    class _NoState(BaseState):
        def reset(self) -> None:
            pass

    class CacheGuard(ModelHook):
        """On the first block, outside the cache's own hooks: forgets a call's cache state when its step index
        does not move forward, and feeds MagCache the loop's step index, step count and the call's ratios."""

        _is_stateful = True  # so cache_context hands it the context, and resets reach it

        def __init__(self, expert: torch.nn.Module, recipe: _Recipe) -> None:
            super().__init__()
            self.state_manager = StateManager(_NoState)
            self.recipe = recipe
            self.last_step: dict[str, int] = {}
            self.managers = [attr for sub in expert.modules() if hasattr(sub, "_diffusers_hook")
                             for hook in sub._diffusers_hook.hooks.values() if hook is not self
                             for attr in vars(hook).values() if isinstance(attr, StateManager)]
            self.mag_head = None
            if recipe.kind == "mag":
                from diffusers.hooks.mag_cache import _MAG_CACHE_LEADER_BLOCK_HOOK

                head = next(sub for sub in expert.modules() if hasattr(sub, "_diffusers_hook")
                            and sub._diffusers_hook.get_hook(_MAG_CACHE_LEADER_BLOCK_HOOK) is not None)
                self.mag_head = head._diffusers_hook.get_hook(_MAG_CACHE_LEADER_BLOCK_HOOK).state_manager
            self._interpolated: dict[tuple[str, int], torch.Tensor] = {}
            self._recording: dict[str, tuple[list[int], list[float]]] = {}

        def reset_state(self, module: torch.nn.Module) -> torch.nn.Module:
            self.last_step.clear()
            self.state_manager.reset()
            return module

        def pre_forward(self, module: torch.nn.Module, *args: Any, **kwargs: Any):
            context = self.state_manager._context
            if context is None or context.step_index is None:
                return args, kwargs
            step, name = int(context.step_index), context.name
            last = self.last_step.get(name)
            new_run = last is None or step <= last
            if last is not None and step <= last:
                for manager in self.managers:  # a new run, or a step run again: start this call's state afresh
                    manager._state_cache.pop(name, None)
            self.last_step[name] = step
            if self.mag_head is not None:
                self._feed_mag(context, step, name, new_run)
            return args, kwargs

        def _feed_mag(self, context: Any, step: int, name: str, new_run: bool) -> None:
            state = self.mag_head.get_state()
            state.step_index = step
            config = self.recipe.config
            if self.recipe.calibrate:
                if new_run:
                    self._recording[name] = ([], state.calibration_ratios)
                self._recording[name][0].append(step)
                return
            steps = int(context.num_inference_steps or config.num_inference_steps)
            ratios = self.recipe.ratios.get(name) or self.recipe.ratios["cond"]
            key = (name, steps)
            if key not in self._interpolated:
                self._interpolated[key] = nearest_interp(torch.tensor(ratios, dtype=torch.float32), steps)
            config.num_inference_steps = steps
            config.mag_ratios = self._interpolated[key]

        def recorded(self) -> dict[str, dict[int, float]]:
            """The ratios each call measured in the last run, by global step index."""
            return {name: dict(zip(steps, ratios, strict=False)) for name, (steps, ratios) in self._recording.items()}

    return CacheGuard


# -- enabling and disabling ------------------------------------------------------------------------------------

def _experts(pipe) -> list[tuple[str, torch.nn.Module]]:
    if getattr(pipe, "unet", None) is not None:
        raise ValueError(f"caching is for Wan (transformer) models; {type(pipe).__name__} has a UNet")
    experts = [(name, getattr(pipe, name)) for name in EXPERTS if getattr(pipe, name, None) is not None]
    if not experts or not all(hasattr(model, "enable_cache") for _, model in experts):
        raise ValueError(f"caching is for Wan (transformer) models; {type(pipe).__name__} has no transformer that "
                         "takes diffusers' caches")
    return experts


def _diffusers_config(recipe: _Recipe, expert: torch.nn.Module):
    from diffusers import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig

    settings = {**DEFAULTS[recipe.kind], **recipe.options}
    if recipe.kind == "first-block":
        return FirstBlockCacheConfig(threshold=float(settings["threshold"]))
    if recipe.kind == "mag":
        if recipe.calibrate:
            return MagCacheConfig(calibrate=True, num_inference_steps=_NEVER)
        cond = recipe.ratios["cond"]
        threshold = float(settings["threshold"])
        return MagCacheConfig(threshold=threshold, max_skip_steps=0 if threshold == 0 else settings["max_skip_steps"],
                              retention_ratio=settings["retention_ratio"], num_inference_steps=len(cond),
                              mag_ratios=torch.tensor(cond, dtype=torch.float32))
    return TaylorSeerCacheConfig(
        cache_interval=settings["cache_interval"], disable_cache_before_step=settings["disable_cache_before_step"],
        disable_cache_after_step=settings["disable_cache_after_step"], max_order=settings["max_order"],
        taylor_factors_dtype=expert.dtype, skip_predict_identifiers=[r"blocks\.\d+"],
        cache_identifiers=[r"proj_out"])


def _install(expert: torch.nn.Module, recipe: _Recipe) -> None:
    """The cache's hooks, then the guard on the first block, outside them (the first block is never wrapped by
    accelerate's offload hooks, which replace the model's own ``forward``)."""
    from diffusers.hooks import HookRegistry

    recipe.config = _diffusers_config(recipe, expert)
    expert.enable_cache(recipe.config)
    recipe.guard = _guard_class()(expert, recipe)
    HookRegistry.check_if_exists_or_initialize(expert.blocks[0]).register_hook(recipe.guard, _GUARD_HOOK)
    HookRegistry.check_if_exists_or_initialize(expert).invalidate_child_registries_cache()
    expert._t2v_cache = recipe


def _uninstall(expert: torch.nn.Module) -> _Recipe | None:
    from diffusers.hooks import HookRegistry

    recipe = getattr(expert, "_t2v_cache", None)
    if recipe is None:
        return None
    HookRegistry.check_if_exists_or_initialize(expert.blocks[0]).remove_hook(_GUARD_HOOK, recurse=False)
    expert.disable_cache()
    del expert._t2v_cache
    return recipe


def mag_ratios_for(mag_ratios: str | os.PathLike[str] | Mapping[str, Any] | None, experts: tuple[str, ...],
                   model: str | None = None) -> dict[str, Any]:
    """The ratios of each of ``experts`` from a ratios file (or its loaded dict); a clear error when there are
    none or they were measured on a model with other experts."""
    if mag_ratios is None:
        raise _missing_ratios(default_mag_ratios_path(model) if model else Path(MAG_RATIOS_FILE), model)
    data = mag_ratios if isinstance(mag_ratios, Mapping) else load_mag_ratios(mag_ratios, model)
    missing = [name for name in experts if name not in data.get("experts", {})]
    if missing:
        raise ValueError(f"mag_ratios were calibrated for {', '.join(sorted(data.get('experts', {})))}, not for "
                         f"{', '.join(missing)} of this model: run `t2v cache calibrate` for this model")
    return {name: data["experts"][name] for name in experts}


def enable_caching(pipe, cache: str | None, *, options: Mapping[str, Any] | None = None,
                   mag_ratios: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> str | None:
    """Turn ``cache`` on for ``pipe``'s transformer (both experts); returns it. None leaves the pipeline as it is.

    ``mag_ratios`` (for ``"mag"``): a ratios file from ``t2v cache calibrate`` or its loaded dict.
    A cache already on is replaced.
    """
    kind = check_cache(cache, options)
    if kind is None:
        return None
    experts = _experts(pipe)
    known = next((cls.__name__ for cls in type(pipe).__mro__
                  if cls.__name__ in ("WanPipeline", "WanImageToVideoPipeline", "WanVACEPipeline")), "")
    check_cache_for(kind, known)
    ratios = mag_ratios_for(mag_ratios, tuple(name for name, _ in experts)) if kind == "mag" else {}
    for name, expert in experts:
        _uninstall(expert)
        _install(expert, _Recipe(kind, dict(options or {}), ratios.get(name)))
    logger.info("cache %s on %s", kind, ", ".join(name for name, _ in experts))
    return kind


def disable_caching(pipe) -> None:
    """Turn any cache of ``pipe``'s transformers off."""
    for name in EXPERTS:
        expert = getattr(pipe, name, None)
        if expert is not None:
            _uninstall(expert)


def cache_kind(pipe) -> str | None:
    """The cache on ``pipe``'s transformer, or None."""
    for name in EXPERTS:
        recipe = getattr(getattr(pipe, name, None), "_t2v_cache", None)
        if recipe is not None:
            return recipe.kind
    return None


@contextmanager
def caching_disabled(pipe, disabled: bool = True) -> Iterator[None]:
    """Run the block with ``pipe``'s transformer caches off (when ``disabled``), and put them back after.

    For training (the cache would hand back stale activations without gradients) and RePaint resampling (a
    re-run step would read as the next one). A pipeline without a cache, or a UNet one, is left alone; nesting
    is fine. The caches come back with fresh state.
    """
    taken: list[tuple[torch.nn.Module, _Recipe]] = []
    if disabled:
        for name in EXPERTS:
            expert = getattr(pipe, name, None)
            recipe = _uninstall(expert) if expert is not None else None
            if recipe is not None:
                taken.append((expert, recipe))
    try:
        yield
    finally:
        for expert, recipe in taken:
            _install(expert, recipe)


# -- calibration -------------------------------------------------------------------------------------------------

def calibrate_mag_ratios(pipe, prompt: str, *, num_inference_steps: int = 50, seed: int = 0,
                         guidance_scale: float | None = None, **call_kwargs: Any) -> dict[str, Any]:
    """Measure MagCache's magnitude ratios of ``pipe``'s transformer(s) over one generation (diffusers'
    ``MagCacheConfig(calibrate=True)``: nothing is skipped; at each step, the mean ratio of the residual's norm
    to the last step's). Returns the dict :func:`save_mag_ratios` writes: per expert and per call (``cond``,
    ``uncond``), one ratio per step of the run (1.0 where the expert did not run)."""
    import diffusers

    if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) or num_inference_steps < 2:
        raise ValueError(f"num_inference_steps must be an integer of at least 2, got {num_inference_steps!r}")
    experts = _experts(pipe)
    if not isinstance(pipe, diffusers.WanPipeline):
        raise ValueError(f"calibration runs a text-to-video Wan pipeline (WanPipeline); got {type(pipe).__name__}")
    found = [(expert, _uninstall(expert)) for _, expert in experts]  # the caches it had come back afterwards
    recipes = {name: _Recipe("mag", {}, calibrate=True) for name, _ in experts}
    try:
        for name, expert in experts:
            _install(expert, recipes[name])
        if guidance_scale is not None:
            call_kwargs["guidance_scale"] = guidance_scale
        pipe(prompt, num_inference_steps=num_inference_steps, output_type="latent",
             generator=torch.Generator().manual_seed(seed), **call_kwargs)
        measured = {name: recipe.guard.recorded() for name, recipe in recipes.items()}
    finally:
        for _, expert in experts:
            _uninstall(expert)
        for expert, recipe in found:
            if recipe is not None:
                _install(expert, recipe)
    by_expert = {}
    for name, calls in measured.items():
        by_expert[name] = {call: [float(steps.get(i, 1.0)) for i in range(num_inference_steps)]
                           for call, steps in sorted(calls.items())}
        if "cond" not in by_expert[name]:  # an expert that never ran (a boundary past every step)
            by_expert[name] = {"cond": [1.0] * num_inference_steps}
    if guidance_scale is None:
        guidance_scale = getattr(pipe, "default_guidance_scale", None)
    return {"format": MAG_RATIOS_FORMAT, "num_inference_steps": num_inference_steps,
            "guidance_scale": guidance_scale, "prompt": prompt, "seed": seed,
            "diffusers": diffusers.__version__, "experts": by_expert}
