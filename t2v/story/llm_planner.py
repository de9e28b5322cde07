"""VideoDrafter's planner: a chat LLM writes the script, then describes each entity once.

Step 1 asks for the scenes: an event per scene with the foreground entities written as ``{name}``
placeholders, plus the background and the camera. Step 2 asks for one detailed description of every
entity. The scene prompts are then assembled here, by code, from the description and the event, so the
description reaches every scene word for word (the LLM never rewrites it per scene): that repetition is
what keeps an entity looking the same across scenes. Both steps go through :func:`t2v.llm_json.ask_json`,
which re-asks with the validator's message when the reply is not the JSON asked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..llm import ChatBackend
from ..llm_json import ask_json
from .phrasing import background_value, camera_value, canonical_motions, join_prompt, setting_phrase
from .script import Entity, Scene, Script
from .setting import take_setting

__all__ = ["LLMPlanner"]

DEFAULT_MAX_SCENES = 8
MAX_DESCRIPTION_WORDS = 40
_NOTHING = ("", "none", "null", "n/a", "unknown", "unspecified", "not specified")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TOKEN = re.compile(r"\{[^{}]*\}|[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")

SYSTEM = ("You turn short stories into multi-scene video scripts for a text-to-video model. "
          "You reply with JSON only, no prose.")
SCRIPT_REQUEST = """Write the script.

Story: \"\"\"{story}\"\"\"

Split the story into 1 to {max_scenes} scenes, in order, one event each. For each scene give:
- "event": what happens, as a short caption in present participles, with every foreground entity written as its
  name in braces, e.g. "{{ball}} rolling to the right" or "{{dog}} chasing {{cat}}". Do not describe the entities'
  looks and do not mention the background or the camera here.
- "entities": the names of the entities in the scene.
- "background": the background or place in a few words (e.g. "black", "a sunny park"), or null if not said.
- "camera": the camera movement ("static", "pan left", "pan right", "zoom in", ...), or null if not said.
At the top, "entities" lists every entity once: a short lower-case name, the same name for the same thing in
every scene.

Reply with JSON only, in this form:
{{"entities": ["ball"], "scenes": [{{"event": "{{ball}} rolling to the right", "entities": ["ball"],
"background": "black", "camera": null}}]}}"""
DESCRIBE_REQUEST = """Describe the entities.

Story: \"\"\"{story}\"\"\"
Entities: {names}

Describe each entity once, as a noun phrase that starts with "a", "an" or "the" (e.g. "a big red ball"): how
it looks (colour, size, shape, material, clothing), from the story; add nothing the story contradicts. The
description is repeated word for word in every scene, so it must not mention an action or a place.

Reply with JSON only, in this form: {example}"""


@dataclass
class _SceneDraft:
    event: str
    entities: list[str]
    background: str | None
    camera: str | None


def _optional_text(path: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{path} must be a string or null, got {json.dumps(value)}")
    text = value.strip()
    return None if text.lower() in _NOTHING else text


def _name(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or "{" in value or "}" in value:
        raise ValueError(f"{path} must be a non-empty name without braces, got {json.dumps(value)}")
    return " ".join(value.lower().split())


def script_validator(max_scenes: int):
    """A validator of step 1's reply: (entity names, scene drafts), or a ValueError saying what is wrong."""

    def validate(data: Any) -> tuple[list[str], list[_SceneDraft]]:
        if not isinstance(data, dict) or not isinstance(data.get("scenes"), list):
            raise ValueError('the reply must be a JSON object with a "scenes" list')
        raw_names = data.get("entities", [])
        if not isinstance(raw_names, list):
            raise ValueError('"entities" must be a list of entity names')
        names = [_name(f"entities[{i}]", n) for i, n in enumerate(raw_names)]
        if len(set(names)) != len(names):
            raise ValueError(f'"entities" names an entity twice: {names}')
        scenes = data["scenes"]
        if not 1 <= len(scenes) <= max_scenes:
            raise ValueError(f'"scenes" must hold 1 to {max_scenes} scenes, got {len(scenes)}')
        drafts = []
        for i, scene in enumerate(scenes):
            path = f"scenes[{i}]"
            if not isinstance(scene, dict):
                raise ValueError(f"{path} must be an object with an event")
            event = _optional_text(f"{path}.event", scene.get("event"))
            if event is None:
                raise ValueError(f"{path}.event must be a non-empty string")
            mentioned = [_name(f"{path}.event placeholder", m) for m in _PLACEHOLDER.findall(event)]
            listed = scene.get("entities", mentioned)
            if not isinstance(listed, list):
                raise ValueError(f"{path}.entities must be a list of entity names")
            listed = [_name(f"{path}.entities[{k}]", n) for k, n in enumerate(listed)]
            for name in dict.fromkeys(mentioned + listed):
                if name not in names:
                    raise ValueError(f"{path} uses {{{name}}}, which is not in the top-level \"entities\" {names}")
                if name not in mentioned:
                    raise ValueError(f"{path}.event must write the entity {name!r} as {{{name}}}")
            drafts.append(_SceneDraft(event, list(dict.fromkeys(mentioned)),
                                      _optional_text(f"{path}.background", scene.get("background")),
                                      _optional_text(f"{path}.camera", scene.get("camera"))))
        return names, drafts

    return validate


def descriptions_validator(names: list[str]):
    """A validator of step 2's reply: name -> description for every entity."""

    def validate(data: Any) -> dict[str, str]:
        if not isinstance(data, dict) or not isinstance(data.get("descriptions"), dict):
            raise ValueError('the reply must be a JSON object with a "descriptions" object')
        given = {" ".join(str(k).lower().split()): v for k, v in data["descriptions"].items()}
        out = {}
        for name in names:
            if name not in given:
                raise ValueError(f'"descriptions" has no description of {name!r}')
            text = given[name]
            if not isinstance(text, str) or not text.strip() or "{" in text or "}" in text:
                raise ValueError(f'descriptions[{name!r}] must be a non-empty noun phrase, got {json.dumps(text)}')
            if len(text.split()) > MAX_DESCRIPTION_WORDS:
                raise ValueError(f"descriptions[{name!r}] must be at most {MAX_DESCRIPTION_WORDS} words")
            out[name] = " ".join(text.split()).rstrip(".")
        return out

    return validate


def assemble_prompt(event: str, descriptions: dict[str, str], background: str | None, camera: str | None) -> str:
    """The scene prompt: the event with each ``{name}`` replaced by the entity's description (verbatim),
    motions in canonical words, then the background and camera phrases."""
    items: list[str] = []
    for token in _TOKEN.findall(event.strip().rstrip(".")):
        placeholder = _PLACEHOLDER.fullmatch(token)
        items.append(descriptions[_name("event", placeholder.group(1))] if placeholder else token.lower())
    words, _ = canonical_motions(items)
    text = " ".join(words)
    for mark in (",", ";", ":", "!", "?"):
        text = text.replace(f" {mark}", mark)
    return join_prompt(text, setting_phrase(background, camera))


class LLMPlanner:
    """Plans a :class:`Script` with any :class:`t2v.llm.ChatBackend` (VideoDrafter's two steps).

    Args:
        backend: the chat model.
        max_retries: re-asks per step after a reply that is not the JSON asked for.
        max_scenes: the most scenes a script may have.
        max_tokens: the reply budget of each request.
    """

    name = "llm"

    def __init__(self, backend: ChatBackend, *, max_retries: int = 2, max_scenes: int = DEFAULT_MAX_SCENES,
                 max_tokens: int = 1024) -> None:
        if not isinstance(backend, ChatBackend):
            raise ValueError(f"backend must be a t2v.llm ChatBackend, got {type(backend).__name__}")
        for arg, value, low in (("max_retries", max_retries, 0), ("max_scenes", max_scenes, 1),
                                ("max_tokens", max_tokens, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{arg} must be an integer >= {low}, got {value!r}")
        self.backend = backend
        self.max_retries = max_retries
        self.max_scenes = max_scenes
        self.max_tokens = max_tokens

    def _ask(self, request: str, validate, what: str):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]
        return ask_json(self.backend, messages, validate, max_retries=self.max_retries,
                        max_tokens=self.max_tokens, what=what)

    def plan(self, story: str, *, seed: int = 0) -> Script:
        """The story's script; ValueError for an empty story, LLMOutputError when the LLM keeps failing."""
        if not isinstance(story, str) or not story.strip():
            raise ValueError("story must be a non-empty string")
        names, drafts = self._ask(SCRIPT_REQUEST.format(story=story.strip(), max_scenes=self.max_scenes),
                                  script_validator(self.max_scenes), "story script")
        used = [n for n in names if any(n in d.entities for d in drafts)]
        descriptions: dict[str, str] = {}
        if used:
            example = json.dumps({"descriptions": {n: "..." for n in used}})
            request = DESCRIBE_REQUEST.format(story=story.strip(), names=", ".join(used), example=example)
            descriptions = self._ask(request, descriptions_validator(used), "entity descriptions")
        scenes = []
        background = camera = None
        for draft in drafts:
            event, said = take_setting(draft.event.lower())  # a background the LLM left in the event is not said twice
            background = background_value(draft.background) or said.background or background
            camera = camera_value(draft.camera) or said.camera or camera
            scenes.append(Scene(prompt=assemble_prompt(event, descriptions, background, camera),
                                entities=draft.entities, background=background, camera=camera))
        entities = [Entity(n, descriptions[n]) for n in used]
        return Script(scenes=scenes, entities=entities, story=story, seed=seed, planner=self.name)
