"""ETVA-style question generation with a chat LLM: prompt → scene graph → one atomic question per element.

The chain mirrors how ETVA's agents parse a prompt, one small job per call, each answered in JSON:

1. entities — the objects, the setting and the camera the prompt names (with stated counts);
2. attributes — for each entity, the attributes the prompt gives it (colour, material, ...);
3. relations — spatial relations between entities and the actions/motions they perform;
4. questions — one yes/no question per scene-graph element, with its category.

Every reply is validated (schema, entity ids, categories, one question per element); a bad reply
is shown back to the model with the error and retried (:func:`t2v.llm_json.ask_json`). The
dependency structure (an attribute depends on its entity existing, a relation on both ends) is
derived from the graph here, not left to the model, so DSG scoring can always trust it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from t2v.llm import ChatBackend
from t2v.llm_json import ask_json

from .types import CATEGORIES, Entity, EvalQuestion, Relation, SceneGraph

logger = logging.getLogger(__name__)

ENTITY_KINDS: tuple[str, ...] = ("object", "background", "camera")
RELATION_KINDS: tuple[str, ...] = ("spatial", "action")
# Attribute names that have their own ETVA category; every other attribute is "other".
# Attribute names with their own ETVA category (as the rule-based generator files them); others are "other".
ATTRIBUTE_CATEGORIES: dict[str, str] = {"color": "color", "colour": "color", "shape": "shape", "size": "shape",
                                        "material": "material", "texture": "material"}

SYSTEM_PROMPT = ("You turn text-to-video prompts into scene graphs for a video evaluation. Use only what the "
                 "prompt states or clearly implies. Reply with JSON only, no prose.")


@dataclass
class Element:
    """One scene-graph element that becomes one question."""

    id: int
    tuple: tuple[str, ...]
    category: str
    parents: list[int] = field(default_factory=list)
    entities: tuple[str, ...] = ()  # ids of the entities it is about, subject first


# -- validation of each step's JSON --------------------------------------------------------

def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be a non-empty string, got {json.dumps(value)}")
    return " ".join(value.split())


def _field(data: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"{where}: expected a JSON object with the key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise ValueError(f"{where}: {key!r} must be a JSON {'list' if kind is list else 'object'}")
    return value


def validate_entities(data: Any) -> list[Entity]:
    items = _field(data, "entities", list, "entities")
    if not items:
        raise ValueError("entities: the list is empty; the prompt names at least one thing")
    entities: list[Entity] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"entities[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where} must be an object with id, name, kind and count")
        entity_id = _text(item.get("id"), f"{where}.id")
        if entity_id in seen:
            raise ValueError(f"{where}.id {entity_id!r} is used twice; ids must be unique")
        seen.add(entity_id)
        kind = item.get("kind", "object")
        if kind not in ENTITY_KINDS:
            raise ValueError(f"{where}.kind must be one of {list(ENTITY_KINDS)}, got {json.dumps(kind)}")
        count = item.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"{where}.count must be a positive integer or null, got {json.dumps(count)}")
        entities.append(Entity(id=entity_id, name=_text(item.get("name"), f"{where}.name").lower(), kind=kind,
                               count=count))
    return entities


def validate_attributes(data: Any) -> dict[str, list[str]]:
    raw = _field(data, "attributes", dict, "attributes")
    attributes: dict[str, list[str]] = {}
    for key, values in raw.items():
        name = _text(key, "an attribute name").lower().replace(" ", "_")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            raise ValueError(f"attributes[{key!r}] must be a list of strings")
        for value in values:
            cleaned = _text(value, f"attributes[{key!r}] values").lower()
            if cleaned not in attributes.setdefault(name, []):
                attributes[name].append(cleaned)
        if not attributes.get(name):
            attributes.pop(name, None)
    return attributes


def relations_validator(entity_ids: set[str]) -> Any:
    """A validator of the relations step that checks subject/object ids against the entities."""

    def validate(data: Any) -> list[Relation]:
        items = _field(data, "relations", list, "relations")
        relations: list[Relation] = []
        for i, item in enumerate(items):
            where = f"relations[{i}]"
            if not isinstance(item, dict):
                raise ValueError(f"{where} must be an object with subject, predicate, object and kind")
            subject = _text(item.get("subject"), f"{where}.subject")
            if subject not in entity_ids:
                raise ValueError(f"{where}.subject {subject!r} is not an entity id; use one of {sorted(entity_ids)}")
            obj = item.get("object")
            if obj is not None:
                obj = _text(obj, f"{where}.object")
                if obj not in entity_ids:
                    raise ValueError(f"{where}.object {obj!r} is not an entity id; use one of "
                                     f"{sorted(entity_ids)} or null")
                if obj == subject:
                    raise ValueError(f"{where}: subject and object are the same entity {obj!r}")
            kind = item.get("kind", "action")
            if kind not in RELATION_KINDS:
                raise ValueError(f"{where}.kind must be one of {list(RELATION_KINDS)}, got {json.dumps(kind)}")
            if kind == "spatial" and obj is None:
                raise ValueError(f"{where}: a spatial relation needs an object entity")
            relations.append(Relation(subject=subject, predicate=_text(item.get("predicate"),
                                                                       f"{where}.predicate").lower(),
                                      object=obj, kind=kind))
        return relations

    return validate


def questions_validator(elements: list[Element]) -> Any:
    """A validator of the questions step: exactly one question per element id, known categories."""
    expected = {e.id for e in elements}

    def validate(data: Any) -> dict[int, tuple[str, str]]:
        items = _field(data, "questions", list, "questions")
        found: dict[int, tuple[str, str]] = {}
        for i, item in enumerate(items):
            where = f"questions[{i}]"
            if not isinstance(item, dict):
                raise ValueError(f"{where} must be an object with id, question and category")
            element_id = item.get("id")
            if isinstance(element_id, str) and element_id.strip().isdigit():
                element_id = int(element_id)
            if isinstance(element_id, bool) or element_id not in expected:
                raise ValueError(f"{where}.id must be one of the element ids {sorted(expected)}, "
                                 f"got {json.dumps(element_id)}")
            if element_id in found:
                raise ValueError(f"{where}: element {element_id} has two questions; give exactly one")
            category = item.get("category")
            if category not in CATEGORIES:
                raise ValueError(f"{where}.category must be one of {list(CATEGORIES)}, got {json.dumps(category)}")
            found[element_id] = (_text(item.get("question"), f"{where}.question"), category)
        missing = sorted(expected - set(found))
        if missing:
            raise ValueError(f"questions: no question for element(s) {missing}; give one per element")
        return found

    return validate


# -- scene graph → elements ----------------------------------------------------------------

def graph_elements(graph: SceneGraph) -> list[Element]:
    """The graph's elements, parents first, with dependencies; tuples as the rule-based generator writes them.

    Objects get an existence element; background and camera always exist, so their elements are
    roots. Counts, attributes and relations depend on the existence of every object they mention.
    """
    elements: list[Element] = []
    existence: dict[str, int] = {}
    by_id = {e.id: e for e in graph.entities}

    def add(tuple_: tuple[str, ...], category: str, about: tuple[str, ...]) -> int:
        parents = [existence[e] for e in about if e in existence]
        elements.append(Element(len(elements) + 1, tuple_, category, parents, about))
        return elements[-1].id

    for entity in graph.entities:
        if entity.kind == "object":
            # Its own id is not in ``existence`` yet, so it gets no parents.
            existence[entity.id] = add(("entity", "whole", entity.name), "existence", (entity.id,))
    for entity in graph.entities:
        about = (entity.id,)
        if entity.count is not None and entity.kind == "object":
            add(("other", "count", entity.name, f"=={entity.count}"), "number", about)
        for name, values in entity.attributes.items():
            category = "camera" if entity.kind == "camera" else ATTRIBUTE_CATEGORIES.get(name, "other")
            for value in values:
                add(("attribute", name, entity.name, value), category, about)
    for relation in graph.relations:
        subject = by_id[relation.subject]
        if relation.object is None:
            if subject.kind == "camera":  # "pan left": the camera's movement, as the rule-based generator files it
                add(("attribute", "movement", subject.name, relation.predicate), "camera", (subject.id,))
            else:
                add(("attribute", "action", subject.name, relation.predicate), "action", (subject.id,))
            continue
        obj = by_id[relation.object]
        category = "camera" if subject.kind == "camera" else relation.kind
        add(("relation", relation.kind, subject.name, obj.name, relation.predicate), category, (subject.id, obj.id))
    return elements


def _element_line(element: Element) -> str:
    head, kind, *args = element.tuple
    return f"{element.id}. {head} - {kind} ({', '.join(args)}) [suggested category: {element.category}]"


# -- the generator -------------------------------------------------------------------------

class LLMQuestionGenerator:
    """Atomic questions from a chat LLM, via ETVA's entities → attributes → relations → questions chain.

    Args:
        backend: any :class:`~t2v.llm.ChatBackend` (e.g. from :func:`t2v.llm.make_backend`).
        max_retries: further attempts per step after a reply that is not valid JSON for that step.
        max_tokens: the length limit of each reply.

    ``generate`` raises :class:`t2v.llm_json.LLMOutputError` when a step stays invalid, and
    :class:`t2v.llm.ChatError` when the backend fails.
    """

    def __init__(self, backend: ChatBackend, *, max_retries: int = 2, max_tokens: int = 1024) -> None:
        if backend is None or not callable(getattr(backend, "chat", None)):
            raise ValueError("backend must be a chat backend (see t2v.llm.make_backend)")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        self.backend = backend
        self.max_retries = max_retries
        self.max_tokens = max_tokens

    def _ask(self, request: str, validate: Any, what: str) -> Any:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": request}]
        return ask_json(self.backend, messages, validate, max_retries=self.max_retries,
                        max_tokens=self.max_tokens, what=what)

    def entities(self, prompt: str) -> list[Entity]:
        request = (
            f"Prompt: \"{prompt}\"\n\nStep 1: list the entities the video must show: objects, people, animals, "
            "the background or setting if the prompt names one, and the camera if the prompt says how it "
            "moves. Reply as {\"entities\": [{\"id\": \"e1\", \"name\": \"dog\", \"kind\": \"object\", "
            "\"count\": null}]} where kind is \"object\", \"background\" or \"camera\" and count is the "
            "number the prompt states (null if it states none)."
        )
        return self._ask(request, validate_entities, "entities")

    def attributes(self, prompt: str, entity: Entity) -> dict[str, list[str]]:
        request = (
            f"Prompt: \"{prompt}\"\n\nStep 2: list the attributes the prompt gives the entity {entity.id} "
            f"\"{entity.name}\" ({entity.kind}): colour, shape, size, material, texture, state, style, and for a "
            "camera its movement or angle. Reply as {\"attributes\": {\"color\": [\"red\"], \"material\": "
            "[\"wood\"]}} with only the attributes stated or clearly implied; {\"attributes\": {}} if none."
        )
        return self._ask(request, validate_attributes, f"attributes of {entity.id}")

    def relations(self, prompt: str, entities: list[Entity]) -> list[Relation]:
        listing = json.dumps([{"id": e.id, "name": e.name, "kind": e.kind} for e in entities])
        request = (
            f"Prompt: \"{prompt}\"\nEntities: {listing}\n\nStep 3: list the relations the prompt states: spatial "
            "relations between two entities (kind \"spatial\", e.g. \"on\", \"left of\", \"in front of\") and "
            "actions or motions (kind \"action\", e.g. \"runs\", \"chases\", \"pans left\"), with the acted-on "
            "entity as object or null. Reply as {\"relations\": [{\"subject\": \"e1\", \"predicate\": "
            "\"chases\", \"object\": \"e2\", \"kind\": \"action\"}]}; {\"relations\": []} if none."
        )
        return self._ask(request, relations_validator({e.id for e in entities}), "relations")

    def questions(self, prompt: str, elements: list[Element]) -> dict[int, tuple[str, str]]:
        listing = "\n".join(_element_line(e) for e in elements)
        request = (
            f"Prompt: \"{prompt}\"\nScene-graph elements:\n{listing}\n\nStep 4: write one yes/no question per "
            "element that a viewer can answer by watching the video, asking about that element alone. "
            f"category is one of {list(CATEGORIES)}; keep the suggested one unless another fits better (e.g. "
            "\"physics\" for a physical phenomenon). Reply as {\"questions\": [{\"id\": 1, \"question\": "
            "\"Is there a dog?\", \"category\": \"existence\"}]} with every element id exactly once."
        )
        return self._ask(request, questions_validator(elements), "questions")

    def generate(self, prompt: str) -> tuple[SceneGraph, list[EvalQuestion]]:
        """The scene graph of ``prompt`` and one atomic question per graph element."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        prompt = " ".join(prompt.split())
        entities = self.entities(prompt)
        for entity in entities:
            entity.attributes = self.attributes(prompt, entity)
        graph = SceneGraph(prompt=prompt, entities=entities, relations=self.relations(prompt, entities))
        elements = graph_elements(graph)
        if not elements:
            return graph, []
        worded = self.questions(prompt, elements)
        questions = [EvalQuestion(id=e.id, text=worded[e.id][0], category=worded[e.id][1], tuple=e.tuple,
                                  parents=list(e.parents), entities=e.entities) for e in elements]
        return graph, questions
