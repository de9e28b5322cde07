"""Attention control for video editing (Prompt-to-Prompt, FateZero, Video-P2P) as diffusers processors.

A control is installed on a UNet with ``set_attn_processor`` for the length of a ``with`` block and the
processors it found are put back afterwards, also after an exception. Only the layers a control needs get
a :class:`ControlledProcessor`; every other layer keeps the processor it had (fused SDPA, xformers, an
IP-Adapter's). A controlled layer hands the call back to its original processor at every step and size it
does not act on, so it only pays for explicit attention maps where it uses them.

Roles come from the module, not its name: cross-attention by ``is_cross_attention``; temporal by a
``motion_modules`` parent (a motion module's ``attn2`` is temporal self-attention); the rest is spatial
self-attention. Batches are ordered: classifier-free-guidance half, video, then frame (spatial layers) or
pixel (temporal layers), then head. UNetMotion's temporal layers get no ``cross_attention_kwargs``, so a
control keeps its own step (set by the denoising loop's ``before_step`` hook) and batch.

The editing flow, FateZero-style: :class:`RecordSource` rides on DDIM inversion of the source video and
keeps, for the steps and layers that editing will use, the queries and keys of the source branch (a few
MB, where the attention maps would be hundreds), plus running sums of the blend words' maps. Then
:class:`EditControl` rides on the edited branch's denoising: cross-attention maps are the source's,
mapped token by token (replace, refine, reweight), inside the cross window; spatial and temporal
self-attention use the source's queries and keys inside their windows, through fused SDPA.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

ROLES = ("cross", "self", "temporal")


@dataclass(frozen=True)
class AttentionLayer:
    """One attention module of a UNet: its processor key and its role."""

    name: str
    role: str
    module: torch.nn.Module


def attention_layers(unet: torch.nn.Module) -> dict[str, AttentionLayer]:
    """Every attention layer of ``unet`` by processor key (the keys of ``unet.attn_processors``)."""
    temporal: set[int] = set()
    for name, module in unet.named_modules():
        if name.rsplit(".", 1)[-1] == "motion_modules":
            temporal.update(id(m) for m in module.modules())
    layers = {}
    for name, module in unet.named_modules():
        if hasattr(module, "set_processor") and hasattr(module, "get_processor"):
            if id(module) in temporal:
                role = "temporal"
            else:
                role = "cross" if getattr(module, "is_cross_attention", False) else "self"
            layers[f"{name}.processor"] = AttentionLayer(f"{name}.processor", role, module)
    return layers


def check_window(name: str, window: tuple[float, float] | None) -> tuple[float, float] | None:
    """A step window as fractions ``(start, end)`` of the steps, ``0 <= start <= end <= 1``; None is off."""
    if window is None:
        return None
    try:
        start, end = (float(v) for v in window)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a pair (start, end) of fractions of the steps, got {window!r}") from err
    if not 0.0 <= start <= end <= 1.0:
        raise ValueError(f"{name} must satisfy 0 <= start <= end <= 1, got {window!r}")
    return start, end


def in_window(window: tuple[float, float] | None, step: int, num_steps: int) -> bool:
    return window is not None and window[0] * num_steps <= step < window[1] * num_steps


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(rows, n, heads·d)`` → ``(rows, heads, n, d)``."""
    rows, n, inner = x.shape
    return x.view(rows, n, heads, inner // heads).transpose(1, 2)


def _project(attn, hidden_states: torch.Tensor, context: torch.Tensor | None):
    """Queries, keys and values of ``attn`` exactly as diffusers' ``AttnProcessor2_0`` computes them."""
    if attn.group_norm is not None:
        hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
    query = attn.to_q(hidden_states)
    if context is None:
        context = hidden_states
    elif attn.norm_cross:
        context = attn.norm_encoder_hidden_states(context)
    key, value = attn.to_k(context), attn.to_v(context)
    query, key, value = (_heads(x, attn.heads) for x in (query, key, value))
    if getattr(attn, "norm_q", None) is not None:
        query = attn.norm_q(query)
    if getattr(attn, "norm_k", None) is not None:
        key = attn.norm_k(key)
    return query, key, value


def attention_probs(query: torch.Tensor, key: torch.Tensor, scale: float) -> torch.Tensor:
    """The attention map ``softmax(q·kᵀ·scale)`` in float32 (what SDPA computes and never keeps)."""
    return (query.float() @ key.float().transpose(-1, -2) * scale).softmax(-1)


def sdpa(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, scale: float) -> torch.Tensor:
    return F.scaled_dot_product_attention(query, key, value, scale=scale)


class ControlledProcessor:
    """A layer's processor while a control is installed: asks the control whether it acts on this call and
    hands the call to the layer's original processor when it does not. An IP-Adapter original is wrapped:
    its output is kept and only the text attention's change is added to it."""

    def __init__(self, control: AttentionControl, layer: AttentionLayer, original) -> None:
        self.control = control
        self.layer = layer
        self.original = original

    def __call__(self, attn, hidden_states: torch.Tensor, encoder_hidden_states=None, attention_mask=None,
                 temb=None, **kwargs) -> torch.Tensor:
        context, image_tokens = encoder_hidden_states, None
        if isinstance(context, tuple):  # IP-Adapter: (text, image tokens)
            context, image_tokens = context
        plain = (hidden_states.ndim == 3 and attention_mask is None and attn.spatial_norm is None
                 and not getattr(attn, "residual_connection", False))
        if not plain or not self.control.acts_on(self.layer, hidden_states.shape):
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)
        query, key, value = _project(attn, hidden_states, context)
        out = self.control.attend(self.layer, query, key, value, attn.scale)
        rows, heads, n, d = out.shape
        out = out.transpose(1, 2).reshape(rows, n, heads * d).to(query.dtype)
        if image_tokens is not None:
            full = self.original(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)
            stock = sdpa(query, key, value, attn.scale).transpose(1, 2).reshape(rows, n, heads * d).to(query.dtype)
            return full + (attn.to_out[0](out) - attn.to_out[0](stock)) / attn.rescale_output_factor
        return attn.to_out[1](attn.to_out[0](out)) / attn.rescale_output_factor


class AttentionStore:
    """Running sums of chosen tokens' cross-attention maps, per word group and frame, at one resolution.

    Memory is one ``(groups, frames, H, W)`` tensor however many steps and layers add to it; only layers
    with at most ``max_query`` queries per frame contribute (the finest layers are costly and noisy)."""

    def __init__(self, groups: list[list[int]], frames: int, size: tuple[int, int], max_query: int) -> None:
        if not groups or any(not g for g in groups):
            raise ValueError("groups must be a non-empty list of non-empty token index lists")
        self.groups = [list(g) for g in groups]
        self.frames = frames
        self.size = size
        self.max_query = max_query
        self.total = torch.zeros(len(groups), frames, *size)
        self.count = 0

    def add(self, probs: torch.Tensor) -> None:
        """``probs``: one video's maps ``(F, heads, n, tokens)``."""
        n = probs.shape[2]
        height, width = self.size
        h = max(1, round(height * math.sqrt(n / (height * width))))
        w = n // h
        for g, tokens in enumerate(self.groups):
            m = probs[..., tokens].sum(-1).mean(1).reshape(self.frames, 1, h, w)
            if (h, w) != self.size:
                m = F.interpolate(m, size=self.size, mode="bilinear", align_corners=False)
            self.total[g] += m[:, 0].to(self.total.device, torch.float32)
        self.count += 1

    def mean(self) -> torch.Tensor:
        """The maps averaged over everything added: ``(groups, F, H, W)``."""
        return self.total / max(1, self.count)


class AttentionControl:
    """Step and batch state, which layers a control wraps, and its installation."""

    roles: tuple[str, ...] = ()

    def __init__(self, num_steps: int, frames: int, latent_size: tuple[int, int]) -> None:
        if num_steps < 1 or frames < 1:
            raise ValueError(f"num_steps and frames must be >= 1, got {num_steps}, {frames}")
        self.num_steps = num_steps
        self.frames = frames
        self.latent_size = latent_size
        self.step = 0
        self.batch = 1  # videos in each UNet call (2 under classifier-free guidance)

    def begin_step(self, index: int, *_: object) -> None:
        """Set the step; matches ``StepHooks.before_step(i, t, latents)`` and inversion's ``on_step(i, t)``."""
        self.step = index

    def spatial_size(self, layer: AttentionLayer, shape: torch.Size) -> int:
        """Queries per frame of this call: the sequence length, or (temporal layers) rows per video."""
        return shape[0] // self.batch if layer.role == "temporal" else shape[1]

    def acts_on(self, layer: AttentionLayer, shape: torch.Size) -> bool:
        return False

    def attend(self, layer: AttentionLayer, query, key, value, scale: float) -> torch.Tensor:
        return sdpa(query, key, value, scale)

    @contextmanager
    def installed(self, unet: torch.nn.Module) -> Iterator[AttentionControl]:
        """Wrap the layers of this control's roles for the ``with`` block; put back exactly the processors
        found, also when the block raises."""
        found = dict(unet.attn_processors)
        layers = attention_layers(unet)
        wrapped = {name: ControlledProcessor(self, layers[name], processor) if layers[name].role in self.roles
                   else processor for name, processor in found.items()}
        unet.set_attn_processor(wrapped)
        try:
            yield self
        finally:
            unet.set_attn_processor(dict(found))


def conditional_split(query, key, value, scale: float, rows: int, conditional) -> torch.Tensor:
    """Stock SDPA for the guidance half, ``conditional(q, k, v)`` for the last ``rows`` rows (one video's)."""
    out = conditional(query[-rows:], key[-rows:], value[-rows:])
    if query.shape[0] == rows:
        return out
    return torch.cat([sdpa(query[:-rows], key[:-rows], value[:-rows], scale), out])


class StoreControl(AttentionControl):
    """Changes nothing; keeps running sums of the maps of chosen tokens (``groups``) of the conditional
    video (the last in the batch), for masks and measurements."""

    roles = ("cross",)

    def __init__(self, num_steps: int, frames: int, latent_size: tuple[int, int], groups: list[list[int]],
                 max_query: int = 32 * 32, cfg: bool = False) -> None:
        super().__init__(num_steps, frames, latent_size)
        self.store = AttentionStore(groups, frames, latent_size, max_query)
        self.batch = 2 if cfg else 1

    def acts_on(self, layer: AttentionLayer, shape: torch.Size) -> bool:
        return self.spatial_size(layer, shape) <= self.store.max_query

    def attend(self, layer: AttentionLayer, query, key, value, scale: float) -> torch.Tensor:
        def keep(q, k, v):
            probs = attention_probs(q, k, scale)
            self.store.add(probs)
            return (probs @ v.float()).to(v.dtype)

        return conditional_split(query, key, value, scale, self.frames, keep)


@dataclass(frozen=True)
class EditWindows:
    """When each kind of control acts, as fractions of the steps; and on which layers (queries per frame).

    Self and temporal injection default to the first 0.4 of the steps (P2P's self-replace fraction); the
    cross window to the first 0.3, not P2P's 0.8: on the dev splits of benchmarks/editing.py the source's maps
    held late kept the old extent, and size edits went 0.375 → 0.625 → 0.875 as the window shrank from 0.8
    to 0.5 to 0.3, at ~0.7 dB of background PSNR."""

    cross: tuple[float, float] | None = (0.0, 0.3)
    self_attention: tuple[float, float] | None = (0.0, 0.4)
    temporal: tuple[float, float] | None = (0.0, 0.4)
    max_cross_query: int = 32 * 32
    max_self_query: int = 32 * 32

    def __post_init__(self) -> None:
        for name in ("cross", "self_attention", "temporal"):
            object.__setattr__(self, name, check_window(f"{name} window", getattr(self, name)))
        for name in ("max_cross_query", "max_self_query"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def window(self, role: str) -> tuple[float, float] | None:
        return {"cross": self.cross, "self": self.self_attention, "temporal": self.temporal}[role]

    def union(self, other: EditWindows) -> EditWindows:
        """Windows that hold both's steps (from the earlier start to the later end), per role."""
        def join(a, b):
            return b if a is None else a if b is None else (min(a[0], b[0]), max(a[1], b[1]))

        return replace(self, cross=join(self.cross, other.cross),
                       self_attention=join(self.self_attention, other.self_attention),
                       temporal=join(self.temporal, other.temporal))

    def limit(self, role: str) -> int:
        return self.max_cross_query if role == "cross" else self.max_self_query


class RecordSource(AttentionControl):
    """Rides on DDIM inversion of the source (one video, no guidance half): keeps the source branch's
    queries and keys where :class:`EditControl` will use them, and sums the source blend words' maps."""

    roles = ROLES

    def __init__(self, num_steps: int, frames: int, latent_size: tuple[int, int], windows: EditWindows,
                 blend_tokens: list[int] | None = None, max_store_query: int = 32 * 32,
                 dtype: torch.dtype | None = None, keep_features: bool = True) -> None:
        super().__init__(num_steps, frames, latent_size)
        self.windows = windows
        self.features: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}
        self.store = AttentionStore([blend_tokens], frames, latent_size, max_store_query) if blend_tokens else None
        self.dtype = dtype
        self.keep_features = keep_features  # False: only the blend words' maps (the edit recomputes the rest)

    def keeps_any(self, step: int) -> bool:
        """Whether some role's window holds ``step``: the steps whose queries and keys the edit uses."""
        return any(in_window(self.windows.window(role), step, self.num_steps) for role in self.roles)

    def _keeps(self, layer: AttentionLayer, size: int) -> bool:
        return self.keep_features and in_window(self.windows.window(layer.role), self.step, self.num_steps) and \
            size <= self.windows.limit(layer.role)

    def _stores_map(self, layer: AttentionLayer, size: int) -> bool:
        return self.store is not None and layer.role == "cross" and size <= self.store.max_query

    def acts_on(self, layer: AttentionLayer, shape: torch.Size) -> bool:
        size = self.spatial_size(layer, shape)
        return self._keeps(layer, size) or self._stores_map(layer, size)

    def attend(self, layer: AttentionLayer, query, key, value, scale: float) -> torch.Tensor:
        size = query.shape[2] if layer.role != "temporal" else query.shape[0]
        if self._keeps(layer, size):
            dtype = self.dtype or query.dtype
            self.features[(self.step, layer.name)] = (query.detach().to(dtype), key.detach().to(dtype))
        if self._stores_map(layer, size):
            probs = attention_probs(query, key, scale)
            self.store.add(probs)
            return (probs @ value.float()).to(value.dtype)
        return sdpa(query, key, value, scale)

    def drop_features_outside(self, windows: EditWindows, layers: dict[str, AttentionLayer]) -> None:
        """Forget the kept queries and keys of steps outside ``windows`` (for each layer's role)."""
        for step, name in list(self.features):
            if not in_window(windows.window(layers[name].role), step, self.num_steps):
                del self.features[(step, name)]

    @property
    def nbytes(self) -> int:
        """Memory held by the recorded queries and keys."""
        return sum(q.numel() * q.element_size() + k.numel() * k.element_size() for q, k in self.features.values())


class EditControl(AttentionControl):
    """Rides on the edited branch's denoising (batch: guidance half, then conditional half, one video each).

    Inside the cross window, the conditional half's cross-attention maps become the source's mapped
    through ``matrix`` (``TokenMap.matrix``), keeping its own maps where a target token maps to nothing,
    then scaled per token by ``weights``. Inside the self and temporal windows, both halves attend with the
    source's queries and keys and their own values. The target blend words' maps are summed throughout."""

    roles = ROLES

    def __init__(self, source: RecordSource, matrix: torch.Tensor, weights: torch.Tensor | None = None,
                 blend_tokens: list[int] | None = None, cfg: bool = True) -> None:
        super().__init__(source.num_steps, source.frames, source.latent_size)
        self.source = source
        self.windows = source.windows
        self.matrix = matrix
        self.mapped = matrix.sum(0).clamp(max=1.0)
        self.weights = weights
        max_store = source.store.max_query if source.store is not None else 32 * 32
        self.store = AttentionStore([blend_tokens], self.frames, self.latent_size, max_store) if blend_tokens \
            else None
        self.batch = 2 if cfg else 1

    def _recorded(self, layer: AttentionLayer) -> tuple[torch.Tensor, torch.Tensor] | None:
        return self.source.features.get((self.step, layer.name))

    def acts_on(self, layer: AttentionLayer, shape: torch.Size) -> bool:
        size = self.spatial_size(layer, shape)
        if layer.role == "cross" and self.store is not None and size <= self.store.max_query:
            return True
        return self._recorded(layer) is not None

    def attend(self, layer: AttentionLayer, query, key, value, scale: float) -> torch.Tensor:
        recorded = self._recorded(layer)
        if layer.role != "cross":
            if recorded is None:
                return sdpa(query, key, value, scale)
            halves = query.shape[0] // recorded[0].shape[0]
            q, k = (x.to(query.dtype).repeat(halves, 1, 1, 1) for x in recorded)
            return sdpa(q, k, value, scale)
        def control(q, k, v):
            probs = attention_probs(q, k, scale)
            if self.store is not None and q.shape[2] <= self.store.max_query:
                self.store.add(probs)
            if recorded is not None:
                source = attention_probs(recorded[0], recorded[1], scale)
                probs = source @ self.matrix.to(probs.device) + probs * (1.0 - self.mapped.to(probs.device))
                if self.weights is not None:
                    probs = probs * self.weights.to(probs.device)
            return (probs @ v.float()).to(v.dtype)

        return conditional_split(query, key, value, scale, self.frames, control)
