"""The default story planner: rules over a small vocabulary, no model, deterministic.

A story becomes one scene per clause (sentences, cut again at "then", "after that", "meanwhile"...).
Each noun phrase is resolved to an entity: "a ..." introduces one, "the circle" refers back to the last
entity of that kind (shapes-world synonyms count: a ball is a circle), "it" to the most recent entity,
"they" / "both" to the entities of the last scene. An entity keeps its description from scene to
scene until the story changes its look ("it turns blue", "it becomes huge"), and every scene prompt
repeats the description word for word (VideoDrafter's consistency rule). Motions are written in
canonical words ("rolls to the right" -> "moving right"), the background and the camera carry over to
later scenes until the story changes them, and words the planner does not know stay as written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .entities import Thing, compatible
from .events import change_at, drop_aspect, participles, relation_at, tidy
from .phrasing import canonical_motions, join_prompt, setting_phrase
from .reading import (
    NounPhrase,
    Setting,
    clauses,
    noun_phrase,
    sentences,
    subject_phrase,
    take_setting,
    tokenize,
    verb_like,
)
from .script import Entity, Scene, Script
from .vocabulary import (
    CONJUNCTIONS,
    COPULAS,
    DISCOURSE,
    GENERIC_NOUNS,
    PLACE_PREPOSITIONS,
    PREPOSITIONS,
    same_kind,
    singular,
)

logger = logging.getLogger(__name__)

__all__ = ["RuleBasedPlanner"]

_SUBJECT_BREAKS = ("and", "while", "whilst", "as", ",")


@dataclass(eq=False)
class _Ref:
    """Another entity named inside an event ("... to the left of <a blue square>")."""

    thing: Thing


Item = str | _Ref


@dataclass
class _Part:
    """One entity's event in a scene."""

    thing: Thing
    event: list[Item]


class _Story:
    """The planner's state while it reads one story: entities, recency, last scene, setting."""

    def __init__(self) -> None:
        self.things: list[Thing] = []
        self.recent: list[Thing] = []  # most recent mention last
        self.entities: dict[str, Entity] = {}
        self.last_scene: list[Thing] = []
        self.setting = Setting()
        self.scenes: list[Scene] = []

    # -- entities ------------------------------------------------------------------------------

    def mention(self, thing: Thing) -> Thing:
        if thing in self.recent:
            self.recent.remove(thing)
        self.recent.append(thing)
        return thing

    def new_thing(self, np: NounPhrase) -> Thing:
        base = singular(np.head) if np.head not in GENERIC_NOUNS else "shape"
        taken = {t.base_name for t in self.things}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} {n}"
        thing = Thing(np.head, list(np.modifiers), np.count, name, list(np.tail))
        self.things.append(thing)
        return thing

    def group(self) -> list[Thing]:
        """What "they" refers to: the last scene's entities, a plural entity, or the last two mentioned."""
        if len(self.last_scene) >= 2:
            return list(self.last_scene)
        for thing in reversed(self.recent):
            if thing.plural:
                return [thing]
        return self.recent[-2:]

    def find(self, np: NounPhrase) -> Thing | None:
        """The most recent entity a definite phrase refers to: same head noun first, then same kind."""
        generic = np.head in GENERIC_NOUNS
        passes = [lambda t: True] if generic else [lambda t: singular(t.head) == singular(np.head),
                                                   lambda t: same_kind(t.head, np.head)]
        for matches in passes:
            fitting = [t for t in reversed(self.recent) if matches(t) and compatible(np, t)]
            if fitting:  # the writer's own words first: "the lavender box" is the lavender one of two purple boxes
                return max(fitting, key=lambda t: sum(m in t.modifiers for m in np.modifiers))
        return None

    def resolve(self, np: NounPhrase, exclude: list[Thing]) -> list[Thing]:
        """The entities a phrase names; a new one for "a ..." or an unmatched "the ..."."""
        if np.pronoun in ("it", "he"):  # the most recent fitting entity: a person for "he"/"she"
            candidates = [t for t in reversed(self.recent) if t not in exclude and not t.plural]
            preferred = [t for t in candidates if t.person == (np.pronoun == "he")]
            found = (preferred or candidates)[:1]
            return [self.mention(t) for t in found]
        if np.pronoun == "they" or (np.definite and np.plural and np.head in GENERIC_NOUNS | {"ones"}):
            return [self.mention(t) for t in self.group()]
        if np.definite:
            found = self.find(np)
            if found is not None:
                return [self.mention(found)]
        return [self.mention(self.new_thing(np))]

    def entity_name(self, thing: Thing) -> str:
        """The Entity of the thing's current look, registered on first use."""
        description = thing.description()
        if description in thing.versions:
            return thing.versions[description]
        name = thing.base_name if not thing.versions else f"{thing.base_name} ({' '.join(thing.change)})"
        unique, n = name, 1
        while unique in self.entities:
            n += 1
            unique = f"{name} {n}"
        thing.versions[description] = unique
        self.entities[unique] = Entity(unique, description)
        return unique

    # -- events ---------------------------------------------------------------------------------

    def event(self, tokens: list[str], subjects: list[Thing]) -> list[Item]:
        """A predicate as event items: changes of look applied, other entities resolved, motions canonical."""
        tokens = drop_aspect([t for t in tokens if t not in DISCOURSE])
        items: list[Item] = []
        j = 0
        while j < len(tokens):
            change = change_at(tokens, j)
            if change is not None:
                for thing in subjects:
                    thing.change_look(*change[:3])
                j += change[3]
                continue
            relation = relation_at(tokens, j)
            np = noun_phrase(tokens, relation[1] if relation else j)
            if np is not None and relation is not None:
                things = self.resolve(np, subjects)
                items += relation[0].split() + (self._refs(things) if things else tokens[relation[1]:np.end])
                j = np.end
                continue
            if np is not None:
                after_place = bool(items) and isinstance(items[-1], str) and items[-1] in PLACE_PREPOSITIONS
                things = [] if after_place and np.pronoun is None else self.resolve(np, subjects)
                # "across the park" is a place, and an "it" with nothing to refer to stays as written
                items += self._refs(things) if things else tokens[j:np.end]
                j = np.end
                continue
            items.append(tokens[j])
            j += 1
        items, _ = canonical_motions(items)
        return tidy(participles(tidy(items)))

    @staticmethod
    def _refs(things: list[Thing]) -> list[Item]:
        out: list[Item] = []
        for k, thing in enumerate(things):
            if k:
                out.append("and")
            out.append(_Ref(thing))
        return out

    # -- clauses and scenes -----------------------------------------------------------------------

    def subject_groups(self, tokens: list[str]) -> list[tuple[list[NounPhrase], list[str]]]:
        """The clause as (subject phrases, predicate tokens) pairs; a clause without a subject gives ([], tokens)."""
        i = 0
        while i < len(tokens) and (tokens[i] in _SUBJECT_BREAKS or tokens[i] in CONJUNCTIONS
                                   or tokens[i] in DISCOURSE):
            i += 1
        if tokens[i:i + 1] == ["there"] and tokens[i + 1:i + 2] and tokens[i + 1] in COPULAS:
            i += 2
        groups: list[tuple[list[NounPhrase], list[str]]] = []
        leading: list[str] = []  # "In the park, a dog runs": the opening phrase joins the first event
        if noun_phrase(tokens, i) is None and tokens[i:i + 1] and tokens[i] in PREPOSITIONS and "," in tokens[i:]:
            comma = tokens.index(",", i)
            if noun_phrase(tokens, comma + 1) is not None:
                leading, i = tokens[i:comma], comma + 1
        if noun_phrase(tokens, i) is None:
            return [([], tokens[i:])] if i < len(tokens) else []
        while i < len(tokens):
            np = subject_phrase(tokens, i)
            if np is None:
                break
            subjects, i = [np], np.end
            while tokens[i:i + 1] == ["and"] and (more := subject_phrase(tokens, i + 1)) is not None:
                subjects.append(more)
                i = more.end
            j = i
            while j < len(tokens):
                if tokens[j] in _SUBJECT_BREAKS:
                    k = j + 1 + (tokens[j + 1:j + 2] == ["and"])
                    nxt = noun_phrase(tokens, k)
                    if nxt is not None and verb_like(tokens, nxt.end):
                        break
                j += 1
            groups.append((subjects, tokens[i:j] + (leading if not groups else [])))
            i = j
            while i < len(tokens) and tokens[i] in _SUBJECT_BREAKS:
                i += 1
        return groups

    def read_clause(self, tokens: list[str], previous: list[Thing]) -> list[_Part]:
        """The parts (entity + event) a clause shows; a clause without a subject continues ``previous``."""
        parts: list[_Part] = []
        for phrases, predicate in self.subject_groups(tokens):
            subjects: list[Thing] = []
            for np in phrases:
                subjects += self.resolve(np, [])
            if not phrases:
                subjects = [self.mention(t) for t in previous]
            if not subjects:
                logger.info("clause %r names nothing the planner can place; skipped", " ".join(tokens))
                continue
            event = self.event(predicate, subjects) if predicate else []
            parts += [_Part(thing, list(event)) for thing in subjects]
        return parts

    def add_scene(self, parts: list[_Part]) -> None:
        merged: list[_Part] = []
        for part in parts:  # one part per entity; two events of one entity are joined
            same = next((p for p in merged if p.thing is part.thing), None)
            if same is None:
                merged.append(_Part(part.thing, list(part.event)))
            elif part.event:
                same.event += (["and"] if same.event else []) + part.event
        prompt, names = self.render(merged)
        setting = setting_phrase(self.setting.background, self.setting.camera)
        self.scenes.append(Scene(prompt=join_prompt(prompt, setting), entities=names,
                                 background=self.setting.background, camera=self.setting.camera))
        self.last_scene = [p.thing for p in merged]

    def render(self, parts: list[_Part]) -> tuple[str, list[str]]:
        """The scene's text and its entity names. An entity that another's event names ("a triangle above
        it") is written there with its own event, not a second time."""
        subjects = {id(p.thing): p for p in parts}
        folded: set[int] = set()
        for part in parts:
            if id(part.thing) in folded:
                continue
            for item in part.event:
                if isinstance(item, _Ref) and id(item.thing) in subjects and item.thing is not part.thing:
                    folded.add(id(item.thing))
        names: list[str] = []

        def text(part: _Part, inner: bool) -> str:
            words = [self._name_and_description(part.thing, names)]
            for item in part.event:
                if isinstance(item, str):
                    words.append(item)
                elif not inner and id(item.thing) in folded:
                    words.append(text(subjects[id(item.thing)], True))
                else:
                    words.append(self._name_and_description(item.thing, names))
            return " ".join(words).replace(" ,", ",")

        pieces = [text(p, False) for p in parts if id(p.thing) not in folded]
        return " and ".join(pieces), names

    def _name_and_description(self, thing: Thing, names: list[str]) -> str:
        name = self.entity_name(thing)
        if name not in names:
            names.append(name)
        return self.entities[name].description


class RuleBasedPlanner:
    """Plans a :class:`Script` from a story with rules alone (no model, deterministic)."""

    name = "rule"

    def plan(self, story: str, *, seed: int = 0) -> Script:
        """The story's script; ValueError if the story is empty or no scene in it can be read."""
        if not isinstance(story, str) or not story.strip():
            raise ValueError("story must be a non-empty string")
        state = _Story()
        for sentence in sentences(story):
            for piece in clauses(sentence):
                text, setting = take_setting(piece)
                parts = state.read_clause(tokenize(text), state.last_scene)
                state.setting = Setting(setting.background or state.setting.background,
                                        setting.camera or state.setting.camera)
                if not parts and (setting.background or setting.camera):
                    # "Then the background turns white.": the same entities in the new setting
                    parts = [_Part(thing, []) for thing in state.last_scene]
                if parts:
                    state.add_scene(parts)
        if not state.scenes:
            raise ValueError("story has no scene the planner can read: start a sentence with what is seen, "
                             "e.g. 'A red ball rolls to the right.'")
        entities = list(state.entities.values())
        return Script(scenes=state.scenes, entities=entities, story=story, seed=seed, planner=self.name)
