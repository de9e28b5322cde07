"""Tiny random chat and vision-language models of real architectures, built offline for tests.

The tokenizer is a byte-level BPE trained here on a few sentences, with the Qwen chat/vision
special tokens and a small chat template written for these tests, so the models' real loading,
templating, processing and generation code runs without any download.
"""

from __future__ import annotations

from pathlib import Path

import torch

SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
    "<|video_pad|>",
)
CORPUS: tuple[str, ...] = (
    "Is there a red circle in the video? yes no Yes No YES NO [YES] [NO]",
    "The video shows a blue square moving left on a gray background while a green triangle stays still.",
    "Describe the video. Answer the question with yes or no. Step one, step two, step three.",
    "user assistant system question answer knowledge entities attributes relations",
)
# Role header, then either plain text or a list of parts in which images and videos become
# placeholder spans the processor expands.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tokenizer(vocab_size: int = 400):
    """A byte-level BPE ``PreTrainedTokenizerFast`` with Qwen's special tokens and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(list(CORPUS) * 3, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   unk_token="<|endoftext|>", additional_special_tokens=list(SPECIAL_TOKENS),
                                   chat_template=CHAT_TEMPLATE)


def build_tiny_chat_model(folder: Path, seed: int = 0) -> Path:
    """A 2-layer random ``Qwen2ForCausalLM`` with the tiny tokenizer, saved (safetensors) to ``folder``."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_tokenizer()
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_qwen_vl(folder: Path, seed: int = 0, version: str = "2.5") -> Path:
    """A random Qwen2.5-VL (or ``version="2"``: Qwen2-VL) with a 1-block vision tower and a 2-layer
    language model, saved the way a published checkpoint is: config + safetensors, tokenizer with
    chat template, and the image processor's ``preprocessor_config.json`` (transformers' default
    Qwen2-VL image processor settings)."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048, bos_token_id=None,
                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]})
    special = dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                   vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
                   eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    if version == "2.5":
        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[0],
                      window_size=56)
        config, model_class, processor_class = (Qwen2_5_VLConfig(text_config=text, vision_config=vision, **special),
                                                Qwen2_5_VLForConditionalGeneration, "Qwen2_5_VLProcessor")
    elif version == "2":
        vision = dict(depth=1, embed_dim=32, hidden_size=32, mlp_ratio=2, num_heads=2, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2)
        config, model_class, processor_class = (Qwen2VLConfig(text_config=text, vision_config=vision, **special),
                                                Qwen2VLForConditionalGeneration, "Qwen2VLProcessor")
    else:
        raise ValueError(f"version must be '2' or '2.5', got {version!r}")
    torch.manual_seed(seed)
    model = model_class(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    image_processor = Qwen2VLImageProcessorPil()
    image_processor.processor_class = processor_class
    image_processor.save_pretrained(folder)
    return folder
