"""The settings of a tiny-shapes training run, one dataclass whose every field has help text."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...models.architecture import PRESETS, TinyShapesPreset

STAGES = ("data", "vae", "decoder", "encode", "direction", "unet", "export")


@dataclass
class TrainConfig:
    """Every knob of a training run. The defaults are the first run's; README gives the flags that
    made the shipped weights from it."""

    out: str = field(default="runs/tiny-shapes", metadata={"help": "run folder: data, checkpoints, exports"})
    preset: str = field(default="tiny-shapes", metadata={"help": f"model size preset: {sorted(PRESETS)}"})
    seed: int = field(default=0, metadata={"help": "seed of data, initialisation and batches"})
    clips: int = field(default=12000, metadata={"help": "number of rendered training clips"})
    captions_per_clip: int = field(default=3, metadata={"help": "different phrasings kept per clip"})
    two_objects: float = field(default=0.3, metadata={"help": "fraction of scenes with two objects"})
    vae_steps: int = field(default=2500, metadata={"help": "VAE optimisation steps"})
    vae_batch: int = field(default=64, metadata={"help": "frames per VAE batch"})
    vae_lr: float = field(default=1e-3, metadata={"help": "VAE peak learning rate"})
    vae_kl: float = field(default=1e-6, metadata={"help": "weight of the VAE's KL term"})
    decoder_steps: int = field(default=0, metadata={
        "help": "steps of the decoder fine-tune after the VAE stage (encoder frozen; 0: none); "
                "see t2v.training.tiny_shapes.decoder"})
    decoder_lr: float = field(default=5e-4, metadata={"help": "peak learning rate of the decoder fine-tune"})
    decoder_object_weight: float = field(default=10.0, metadata={
        "help": "extra loss weight of object pixels (and their rim) in the decoder fine-tune"})
    decoder_blend_share: float = field(default=0.0, metadata={
        "help": "share of each decoder fine-tune batch that is a dissolve: two random training frames "
                "mixed at a random weight, so the decoder renders the in-between frames a transition passes "
                "through (the encoder already maps them between the two frames' latents)"})
    decoder_encoder_lr: float = field(default=0.0, metadata={
        "help": "peak learning rate of the encoder in the decoder fine-tune (0: frozen, so cached latents and "
                "trained UNets stay valid; above 0 the latent space changes: re-encode and train the UNet)"})
    unet_steps: int = field(default=20000, metadata={"help": "UNet optimisation steps"})
    unet_batch: int = field(default=16, metadata={"help": "clips per UNet batch (per process)"})
    unet_lr: float = field(default=1e-3, metadata={"help": "UNet peak learning rate"})
    warmup: int = field(default=300, metadata={"help": "linear learning-rate warm-up steps"})
    ema_decay: float = field(default=0.999, metadata={"help": "EMA decay of the UNet weights used to sample"})
    snr_gamma: float = field(default=5.0, metadata={"help": "min-SNR loss weighting gamma (0 disables)"})
    caption_dropout: float = field(default=0.1, metadata={"help": "fraction of empty captions (for CFG)"})
    attribute_dropout: float = field(default=0.0, metadata={
        "help": "chance that a training caption leaves one attribute (colour, shape or size) unsaid, so each "
                "word is learnt on its own rather than with the words it usually comes with"})
    direction_steps: int = field(default=0, metadata={
        "help": "steps of the direction warm-up before the UNet stage (0: none); "
                "see t2v.training.tiny_shapes.direction"})
    direction_clips: int = field(default=3000, metadata={"help": "centred clips rendered for the direction warm-up"})
    direction_lr: float = field(default=1e-3, metadata={"help": "constant learning rate of the direction warm-up"})
    direction_min_timestep: int = field(default=900, metadata={
        "help": "the direction warm-up trains timesteps from this one to the noisiest only"})
    direction_share: float = field(default=0.0, metadata={
        "help": "share of each UNet-stage batch drawn from the warm-up's centred clips at its noisiest timesteps, "
                "so the UNet stage keeps what the warm-up taught"})
    checkpoint_every: int = field(default=250, metadata={"help": "steps between resumable checkpoints"})
    log_every: int = field(default=50, metadata={"help": "steps between loss logs"})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0: torch's default)"})
    init_from: str = field(default="", metadata={
        "help": "exported model folder to continue from (its VAE is reused, its UNet warm-starts training); "
                "lets a later machine go on from the shipped weights when the run folder is gone"})
    vae_from: str = field(default="", metadata={
        "help": "exported model folder whose VAE is reused instead of training one (the UNet starts fresh "
                "unless --init-from is given); a new UNet then shares the shipped latent space"})

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        for name in ("clips", "captions_per_clip", "vae_batch", "unet_batch", "direction_clips", "checkpoint_every",
                     "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.caption_dropout < 1.0:
            raise ValueError(f"caption_dropout must be in [0, 1), got {self.caption_dropout}")
        if not 0.0 <= self.attribute_dropout <= 1.0:
            raise ValueError(f"attribute_dropout must be in [0, 1], got {self.attribute_dropout}")
        if not 0.0 <= self.direction_share <= 1.0:
            raise ValueError(f"direction_share must be in [0, 1], got {self.direction_share}")
        if self.decoder_steps < 0:
            raise ValueError(f"decoder_steps must be >= 0, got {self.decoder_steps}")
        if not self.decoder_lr > 0:
            raise ValueError(f"decoder_lr must be > 0, got {self.decoder_lr}")
        if not self.decoder_object_weight >= 0:
            raise ValueError(f"decoder_object_weight must be >= 0, got {self.decoder_object_weight}")
        if not 0.0 <= self.decoder_blend_share <= 1.0:
            raise ValueError(f"decoder_blend_share must be in [0, 1], got {self.decoder_blend_share}")
        if not self.decoder_encoder_lr >= 0:
            raise ValueError(f"decoder_encoder_lr must be >= 0, got {self.decoder_encoder_lr}")
        if self.direction_steps < 0:
            raise ValueError(f"direction_steps must be >= 0, got {self.direction_steps}")
        if not 0 <= self.direction_min_timestep < 1000:
            raise ValueError(f"direction_min_timestep must be in [0, 1000), got {self.direction_min_timestep}")

    @property
    def model(self) -> TinyShapesPreset:
        return PRESETS[self.preset]
