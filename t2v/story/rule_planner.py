"""The default story planner: rules over a small vocabulary, no model, deterministic.

A story becomes one scene per clause (sentences, cut again at "then", "after that", "meanwhile"...).
Each noun phrase is resolved to an entity: "a ..." introduces one, "the circle" refers back to the last
entity of that kind (shapes-world synonyms count: a ball is a circle), "it" to the most recent entity,
"they" / "both" to the entities of the last scene. An entity keeps its description from scene to
scene until the story changes its look ("it turns blue", "it becomes huge"), and every scene prompt
repeats the description word for word (VideoDrafter's consistency rule). Motions are written in
canonical words ("rolls to the right" -> "moving right"), the background and the camera carry over to
later scenes until the story changes them, and words the planner does not know stay as written, except in a
story whose entities are all shapes of the world (balls, boxes, wedges...): that story is written for the
world's caption parser, so its events keep only phrases the world reads (motions, its four relations) and its
entities only their colour and size words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .entities import Thing, compatible
from .events import change_at, drop_aspect, drop_repeats, participles, relation_at, size_reached_at, tidy
from .ordering import in_time_order
from .phrasing import canonical_motions, direction_after, join_prompt, setting_phrase
from .reading import (
    NounPhrase,
    clauses,
    noun_phrase,
    participle_at,
    sentences,
    subject_phrase,
    tokenize,
    verb_like,
)
from .script import Entity, Scene, Script
from .setting import Setting, take_setting
from .vocabulary import (
    BACKGROUND_WORDS,
    CAMERA_NOUNS,
    COLOR_FAMILY,
    COLORS,
    COMPARATIVE_DIRECTIONS,
    CONJUNCTIONS,
    COPULAS,
    DETERMINERS,
    DIRECTION_PLACES,
    DIRECTION_SIDES,
    DIRECTIONS,
    DISCOURSE,
    FRAME_NOUNS,
    GENERIC_NOUNS,
    INTENSIFIERS,
    INTERJECTIONS,
    KNOWN_NOUNS,
    MOTION_VERBS,
    MOVE_VERBS,
    PLACE_PREPOSITIONS,
    PREPOSITIONS,
    PRESENTATIVES,
    QUANTIFIERS,
    RELATIONS,
    RELATIVE_PRONOUNS,
    SCENE_NOUNS,
    SIZE_FAMILY,
    SIZES,
    STAY_VERBS,
    SUBORDINATORS,
    VIEWERS,
    WORLD_COLORS,
    WORLD_RELATIONS,
    WORLD_SIZES,
    base_of,
    same_kind,
    singular,
    world_noun,
    world_phrase_at,
)

logger = logging.getLogger(__name__)

__all__ = ["RuleBasedPlanner"]

# Words between two subjects' clauses: "the box sinks while the ball rises", "the disc stops, but the wedge hops".
_SUBJECT_BREAKS = ("and", "while", "whilst", "as", ",", "but", "whereas")


def _opens_with(tokens: list[str], i: int) -> int | None:
    """After "it (all) starts with" / "everything begins with" / "this opens with": where what it starts with begins;
    None for another clause."""
    k = i + 1 + (tokens[i + 1:i + 2] == ["all"])
    if (tokens[i:i + 1] and tokens[i] in ("it", "this", "everything") and base_of(tokens[k] if k < len(tokens) else "")
            in ("start", "begin", "open") and tokens[k + 1:k + 2] == ["with"] and noun_phrase(tokens, k + 2)):
        return k + 2
    return None


def _main_clause(tokens: list[str], i: int) -> int | None:
    """Where the main clause starts after a subordinate one at ``tokens[i]`` ("when the bell rings, <a ball drops>"):
    after the first comma, when a subject and a verb follow it; None otherwise."""
    if "," not in tokens[i:]:
        return None
    comma = tokens.index(",", i)
    subject = noun_phrase(tokens, comma + 1)
    # "when it reached the top, it slowly shrank"
    return comma + 1 if subject is not None and _verb_at(tokens, subject.end, quantifiers=False) else None


def _opening(tokens: list[str], i: int, world: bool = False) -> tuple[list[str], int] | None:
    """Words before a clause's subject that are no predicate, and where the subject starts; None if there are none.

    A place or a relation set off by a comma is kept and joins the first event ("In the park, a dog runs" ->
    "... running in the park", "Next to a disc, a box shrinks"); other openings only lead into the subject and are
    dropped ("Slowly, a ball falls", "where a box slides left", "instead the ball sinks"). A verb before the subject
    means the clause has none. In a shapes story (``world``) a participle set off by a comma is the subject's
    event ("Bouncing on a grey floor, a circle ...").
    """
    if world and participle_at(tokens, i) and (main := _main_clause(tokens, i)) is not None:
        return tokens[i:main - 1], main  # "Bouncing on a grey floor, a circle ...": the participle is its event
    k = i
    while k < len(tokens):
        np = noun_phrase(tokens, k)
        if np is None:
            if tokens[k] != "," and verb_like(tokens, k):
                return None
            k += 1
            continue
        before = tokens[k - 1:k]
        if before == ["and"] and tokens[k - 2:k - 1] == [","]:
            before = [","]
        if k > i and before == [","]:
            # a place or a relation ("Next to a red disc, a box shrinks") belongs to the event
            kept = (tokens[i] in PREPOSITIONS and tokens[i] != "without") or relation_at(tokens, i) is not None
            return [t for t in tokens[i:k] if t not in (",", "and")] if kept else [], k
        end = _subjects_end(tokens, np)  # "Slowly a ball and a box fall": the verb is after both
        if k > i and end < len(tokens) and _verb_at(tokens, end):
            return [], k
        k = np.end  # a noun phrase inside the opening ("in the park"): read on past it
    return None


@dataclass(eq=False)
class _Ref:
    """Another entity named inside an event ("... to the left of <a blue square>")."""

    thing: Thing


@dataclass(eq=False)
class _Place:
    """A place named inside an event ("across <the park>"): its words as written, no entity."""

    words: list[str]


Item = str | _Ref | _Place
_TRANSLATIONS = frozenset(DIRECTIONS.values())
# After a move verb with no direction: "keeps sliding", "slides on", "moves again" go on the way it went.
_GOES_ON = (["and"], [","], ["again"], ["on"], ["along"], ["further"], ["onward"], ["onwards"])


def _names_direction(np: NounPhrase) -> bool:
    """Whether a phrase after a preposition is part of a direction ("to the left", "toward the bottom", "to the
    left side of the screen"), so that its words stay for :func:`canonical_motions` rather than becoming a place."""
    return (np.head in DIRECTIONS or np.head in DIRECTION_PLACES or np.head in FRAME_NOUNS
            or (np.head in DIRECTION_SIDES and bool(np.modifiers) and np.modifiers[-1] in DIRECTIONS))


def _first_subject(tokens: list[str]) -> int | None:
    """Where the first noun phrase after ``tokens[0]`` that has a verb of its own starts ("a cube slides", "a cube
    that slides"); None if there is none."""
    for k in range(1, len(tokens)):
        np = noun_phrase(tokens, k)
        if np is not None and np.pronoun is None:
            end = _subjects_end(tokens, np)  # "a cube and a wedge (both) slide", "a cube that slides"
            relative = tokens[end:end + 1] and tokens[end] in RELATIVE_PRONOUNS
            if _verb_at(tokens, end + bool(relative)):
                return k
    return None


def _following_event(tokens: list[str]) -> list[str]:
    """What a thing the camera follows does: "(following a circle) as it moves left" -> "moves left"; nothing
    when no verb of its own follows."""
    if tokens[:1] in (["as"], ["while"]) and tokens[1:2] in (["it"], ["they"]):
        tokens = tokens[2:]
    elif tokens[:1] in (["that"], ["which"]):
        tokens = tokens[1:]
    return tokens if _verb_at(tokens, 0) else []


def _verb_at(tokens: list[str], k: int, quantifiers: bool = True) -> bool:
    """A verb at ``tokens[k]``, or after an adverb there ("just sits"), or after a quantifier ("both move") unless
    ``quantifiers`` is off."""
    return verb_like(tokens, k) or ((_adverb_at(tokens, k) or (quantifiers and tokens[k:k + 1] in (["both"], ["all"])))
                                    and verb_like(tokens, k + 1))


def _subjects_end(tokens: list[str], np: NounPhrase) -> int:
    """Where a noun phrase and the ones joined to it by "and" end: "a cube and a wedge" of "a cube and a wedge
    slide"."""
    end = np.end
    while tokens[end:end + 1] == ["and"] and (more := noun_phrase(tokens, end + 1)) is not None:
        end = more.end
    return end


def _named(tokens: list[str]) -> list[NounPhrase]:
    """The noun phrases (no pronouns, no directions like "the left") in a run of words, in order."""
    found: list[NounPhrase] = []
    k = 0
    while k < len(tokens):
        np = noun_phrase(tokens, k)
        if np is not None and np.pronoun is None and not _names_direction(np):
            found.append(np)
            k = np.end
        else:
            k += 1
    return found


# Besides "now", the words that open an aside giving a new look in a shapes story: "suddenly big", "both small".
_LOOK_MARKERS = ("suddenly", "both", "all", "looking")


def _now_look(tokens: list[str], world: bool = False) -> tuple[list[str], list[str]]:
    """A clause without its "now <look>" aside, and the look: "the triangle, now large, hops" -> "the triangle
    hops" and ["large"]. The aside is set off by commas (or starts the clause), or follows "the" ("the now-tiny
    circle"), and holds colour and size words."""
    for k, word in enumerate(tokens):
        if word != "now" and not (world and word in _LOOK_MARKERS):
            continue
        end = k + 1
        while end < len(tokens) and (tokens[end] in COLORS or tokens[end] in SIZES or tokens[end] == "and"):
            end += 1
        look = [t for t in tokens[k + 1:end] if t != "and"]
        aside = tokens.index(",", k) if "," in tokens[k:] else None  # "now just a little ball,", "now big and proud,"
        if aside is not None and aside - k <= 6 and (not k or tokens[k - 1] == ","):
            words = tokens[k + 1:aside]
            plain = not any(verb_like(words, i) for i in range(len(words)))
            if plain and any(t in COLORS or t in SIZES for t in words) and (
                    noun_phrase(words, 0) is None or words[:1] in (["a"], ["an"], ["just"])):
                look = [t for t in words if t in COLORS or t in SIZES]
                end = aside
        if look and (tokens[end:end + 1] == [","] or (world and end == len(tokens))) and (
                not k or tokens[k - 1] == ","):
            return tokens[:max(k - 1, 0)] + tokens[end + 1:], look  # also at the end: "..., both small"
        if look and k and tokens[k - 1] in ("the", "this", "that") and end < len(tokens) and word == "now":
            return tokens[:k] + tokens[end:], look  # "the now-tiny circle sits"
    for k in range(1, len(tokens) - 2):  # "the square, big now, moves": the look before its "now"
        if tokens[k - 1] == "," and (tokens[k] in COLORS or tokens[k] in SIZES) and tokens[k + 1:k + 3] == ["now", ","]:
            return tokens[:k - 1] + tokens[k + 3:], [tokens[k]]
    return tokens, []


def _names_known(tokens: list[str], i: int) -> bool:
    """Whether a noun phrase of a known kind of thing starts at ``tokens[i]``: the "a big ball" of "it is a big
    ball", not the "a sunny day" of "it is a sunny day"."""
    np = noun_phrase(tokens, i)
    return np is not None and np.pronoun is None and singular(np.head) in KNOWN_NOUNS


def _adverb_at(tokens: list[str], k: int) -> bool:
    """Whether ``tokens[k]`` is an adverb before a verb: "just", "still", "slowly"."""
    return k < len(tokens) and (tokens[k] in ("just", "still", "then", "also") or (
        tokens[k].endswith("ly") and not verb_like(tokens, k)))  # "slowly", not "fly"


def _background_by_pronoun(tokens: list[str]) -> str | None:
    """The background colour of "it becomes checkered" / "it turns black" in a shapes story: the world's shapes
    come in none of its background colours, so "it" can only be the background."""
    if (tokens[:1] == ["it"] and len(tokens) == 3 and base_of(tokens[1]) in ("turn", "become", "change", "go")
            and tokens[2] in BACKGROUND_WORDS and tokens[2] not in WORLD_COLORS):
        return tokens[2]
    return None


def _come_to_rest(tokens: list[str]) -> list[str]:
    """"comes to a stop", "came to rest", "comes to a halt" as "stops", so that no place is read in them."""
    out: list[str] = []
    k = 0
    while k < len(tokens):
        rest = tokens[k + 1:k + 4]
        if base_of(tokens[k]) == "come" and (rest[:2] == ["to", "rest"] or rest in (
                ["to", "a", "stop"], ["to", "a", "halt"], ["to", "a", "standstill"])):
            out.append("stops")
            k += 1 + (2 if rest[:2] == ["to", "rest"] else 3)
            continue
        out.append(tokens[k])
        k += 1
    return out


def _idle_remark(thing: Thing) -> bool:
    """A "this one" / "the thing" with no look of its own: in a shapes story, a remark about the video ("this one
    was weird"), not a shape to show."""
    return thing.head in GENERIC_NOUNS and not thing.modifiers


def _joins_last(tokens: list[str]) -> bool:
    """A clause that opens by restating the last scene's event as its time and brings a new thing into it: "as
    it rises, a triangle falls" (but "as it falls, the background turns black" is a scene of its own)."""
    if not (tokens[:1] in (["as"], ["while"]) and tokens[1:2] in (["it"], ["they"]) and verb_like(tokens, 2)
            and "," in tokens):
        return False
    main = tokens[tokens.index(",") + 1:]
    return main[:1] in (["a"], ["an"]) and noun_phrase(main, 0) is not None  # a new thing joins the last scene


def _fronted_look(tokens: list[str]) -> list[str]:
    """Colour and size words put before their thing: "big and blue, a circle slides" -> "a big blue circle
    slides", also after ", and"."""
    k = 0
    while k < len(tokens):
        end = k
        while (end < len(tokens) and end - k < 6 and noun_phrase(tokens, end) is None and not verb_like(tokens, end)
               and (tokens[end] != "," or noun_phrase(tokens, end + 1) is None)):
            end += 1  # "purple and proud, a square", "big, red and round, a ball": words that are no thing, no verb
        look = [t for t in tokens[k:end] if t in COLORS or t in SIZES]
        if tokens[k] in ("now", "just", *_LOOK_MARKERS):
            look = []  # "now small, the circle ...": a change, read by _now_look
        np = noun_phrase(tokens, end + 1) if tokens[end:end + 1] == [","] else None
        if (not k or tokens[k - 1] in (",", "and")) and look and np is not None and np.pronoun is None and (
                np.determiner in ("a", "an", "the")):
            words = sorted(look + np.modifiers, key=lambda word: word not in SIZES)  # "a small purple square"
            tokens = [*tokens[:k], tokens[end + 1], *words, np.head, *tokens[np.end:]]
        k += 1
    return tokens


def _same_kind_of_look(a: str, b: str) -> bool:
    """Whether two look words say the same kind of thing: both colours, or both sizes."""
    return (a in COLORS and b in COLORS) or (a in SIZES and b in SIZES)


def _causative(tokens: list[str]) -> list[str]:
    """A causative of a shapes story as what happens: "make it big" -> "it turns big", "(and) have it move down" ->
    "(and) it moves down"."""
    out: list[str] = []
    k = 0
    while k < len(tokens):
        np = noun_phrase(tokens, k + 1) if tokens[k] in ("make", "have", "let", "get") and (
            not out or out[-1] in (",", "and", "then")) else None
        if np is not None and np.end < len(tokens) and (tokens[np.end] in COLORS or tokens[np.end] in SIZES):
            out += [*tokens[k + 1:np.end], "turns"]
            k = np.end
            continue
        if np is not None and np.pronoun is not None and verb_like(tokens, np.end) and out:
            k = np.end  # "..., and have it move down": the same subject moves down
            continue
        out.append(tokens[k])
        k += 1
    return out


def _one_and_one(tokens: list[str]) -> list[str]:
    """A pair told apart by an aside, as two things: "two circles, one orange and one green, sit" -> "an orange
    circle and a green circle sit"."""
    for k in range(len(tokens)):
        pair = noun_phrase(tokens, k)
        if pair is None or pair.pronoun is not None or not pair.plural or tokens[pair.end:pair.end + 2] != [",", "one"]:
            continue
        j, looks = pair.end + 2, [[], []]
        for which in (0, 1):
            while j < len(tokens) and (tokens[j] in COLORS or tokens[j] in SIZES):
                looks[which].append(tokens[j])
                j += 1
            if which == 0:
                if tokens[j:j + 2] not in (["and", "one"], ["and", "the"]) or not looks[0]:
                    break
                j += 2 + (tokens[j + 1:j + 3] == ["the", "other"])
        else:
            if looks[1] and tokens[j:j + 1] == [","]:
                head = singular(pair.head)
                return [*tokens[:k], "a", *looks[0], head, "and", "a", *looks[1], head, *tokens[j + 1:]]
    return tokens


def _named_list(tokens: list[str]) -> list[str]:
    """A general phrase spelt out by a list after it, as the list: "two shapes, a red square and a green triangle,
    start out still" -> "a red square and a green triangle start out still"; "two shapes share the screen: a red
    square rising and ..." -> "a red square rising and ..."."""
    for k in range(len(tokens)):
        general = noun_phrase(tokens, k)
        if (general is None or general.pronoun is not None or world_noun(general.head)
                or tokens[general.end:general.end + 1] != [","]):
            continue
        end, named = general.end + 1, []
        while (np := noun_phrase(tokens, end)) is not None and np.pronoun is None:
            end = np.end
            named.append(np)
            if tokens[end:end + 1] == [","] and (after := noun_phrase(tokens, end + 1)) is not None and (
                    after.pronoun is None):
                end += 1  # "a red square, a blue ball and a green triangle"
                continue
            if tokens[end:end + 1] != ["and"]:
                break
            end += 1
        # "two shapes, a red square and a green triangle, ..."; "our hero, a tiny red square, ..." (the general
        # phrase names no shape of the world, its aside does)
        spelt = len(named) >= (2 if general.plural else 1) if general.head in GENERIC_NOUNS else bool(named) and all(
            world_noun(np.head) for np in named)
        if spelt and (tokens[end:end + 1] == [","] or end == len(tokens)):
            # the general phrase's colour and size go to the things that name none: "two yellow shapes: a small
            # circle and a big square"
            shared = [m for m in general.modifiers if m in COLORS or m in SIZES]
            listed = [word for n, np in enumerate(named) for word in ["and"] * bool(n) + [
                tokens[np.start], *sorted([m for m in shared if not any(_same_kind_of_look(m, x) for x in np.modifiers)]
                                          + np.modifiers, key=lambda word: word not in SIZES), np.head]]
            return tokens[:k] + listed + tokens[end + 1:]
    for k in range(len(tokens)):  # "two shapes share the screen: a triangle rising and a circle sinking"
        general = noun_phrase(tokens, k)
        if (general is None or general.pronoun is not None or world_noun(general.head) or not general.plural
                or "," not in tokens[k:]):
            continue  # "two players out there on black: a big square and a small triangle"
        comma = tokens.index(",", k)
        rest = tokens[comma + 1:]
        first = noun_phrase(rest, 0)
        if first is not None and first.pronoun is None and "and" in rest and len(_named(rest)) >= 2:
            return tokens[:k] + rest
    return tokens


def _absolute_with(tokens: list[str]) -> list[str]:
    """"They" doing one thing, spelt out by a "with" after it, as what follows "with": "they swap, with the
    circle sinking and the square rising" -> "the circle sinking and the square rising". Any other subject keeps
    its clause ("the dog runs, with the boy chasing it")."""
    if "with" not in tokens:
        return tokens
    w = tokens.index("with")
    subject = noun_phrase(tokens, 0)
    inner = noun_phrase(tokens, w + 1)
    if (subject is None or subject.pronoun != "they" or inner is None or inner.pronoun is not None
            or not participle_at(tokens, inner.end) or len(_named(tokens[w + 1:])) < 2):
        return tokens
    between = tokens[subject.end:w - 1]  # set off by a comma: "they swap, with ..."
    return tokens[w + 1:] if tokens[w - 1:w] == [","] and 1 <= len(between) <= 2 else tokens


def _with_articles(tokens: list[str]) -> list[str]:
    """Clipped phrases with their article: "red square grows", "so: orange triangle, tiny, going up" -> "a red
    square grows", "... a orange triangle ...". Only colour or size words before a known noun, where a phrase may
    start (the clause's start, after a comma, "and", "so")."""
    out: list[str] = []
    k = 0
    while k < len(tokens):
        starts = not out or out[-1] in (",", "and", "so", "then", "ok", "okay", "well") or (
            base_of(out[-1]) or out[-1]) in PRESENTATIVES
        first = k + (not out and tokens[k].isalpha() and tokens[k] not in DETERMINERS and not verb_like(tokens, k)
                     and tokens[k + 1:k + 2] != [] and (tokens[k + 1] in COLORS or tokens[k + 1] in SIZES))
        # ("poor little yellow circle, ...": one word before the colour and size words)
        end = first
        while end < len(tokens) and (tokens[end] in COLORS or tokens[end] in SIZES):
            end += 1
        if starts and end > first and end < len(tokens) and tokens[end] in KNOWN_NOUNS:
            out.append("a")
        elif starts and end == k and tokens[k] in KNOWN_NOUNS and verb_like(tokens, k + 1):
            out.append("the")  # "circle go up, triangle go down": the circle, the triangle
        out += tokens[k:end + 1] if end > k else tokens[k:k + 1]
        k = max(end + 1, k + 1)
    return out


def _comma_adjectives(tokens: list[str]) -> list[str]:
    """Commas between the words that describe a shape, taken out: "a kind, big blue square" -> "a kind big blue
    square", "the sad, little, red ball" -> "the sad little red ball"."""
    for k in range(len(tokens)):
        if tokens[k] not in ("a", "an", "the"):
            continue
        j, commas = k + 1, 0
        while j < len(tokens) and tokens[j] not in KNOWN_NOUNS and (tokens[j] == "," or (
                tokens[j].isalpha() and tokens[j] not in DETERMINERS and not verb_like(tokens, j))):
            commas += tokens[j] == ","
            j += 1
        if commas and j < len(tokens) and tokens[j] in KNOWN_NOUNS and tokens[j - 1] != ",":
            return [*tokens[:k + 1], *(t for t in tokens[k + 1:j] if t != ","), *_comma_adjectives(tokens[j:])]
    return tokens


def _fronted_verb(tokens: list[str]) -> list[str]:
    """A motion put first, said over: "bounce, bounce, bounce went the square" -> "the square bounces"."""
    if not tokens or base_of(tokens[0]) not in MOTION_VERBS:
        return tokens
    k = 0
    while k < len(tokens) and tokens[k] in (tokens[0], ","):
        k += 1
    if tokens[k:k + 1] in (["went"], ["goes"], ["go"]) and (np := noun_phrase(tokens, k + 1)) is not None:
        return [*tokens[k + 1:np.end], f"{base_of(tokens[0])}s" if not tokens[0].endswith("s") else tokens[0],
                *tokens[np.end:]]
    return tokens


def _fronted_arrival(tokens: list[str]) -> list[str]:
    """"Along came a big triangle that bounced" -> "a big triangle that bounced": who arrives is the subject."""
    if (tokens[:1] in (["along"], ["in"], ["out"], ["up"], ["down"]) and len(tokens) > 2
            and base_of(tokens[1]) in ("come", "go") and (np := noun_phrase(tokens, 2)) is not None
            and np.pronoun is None):
        return tokens[2:] if tokens[0] == "along" else tokens
    return tokens


def _fronted_direction(tokens: list[str]) -> list[str]:
    """A clause that starts with its direction in the usual order: "up goes the square" -> "the square goes up",
    "down it comes" -> "it comes down"."""
    k = 0
    while k < len(tokens) and tokens[k] == ",":
        k += 1
    if k + 2 >= len(tokens) or tokens[k] not in DIRECTIONS:
        return tokens
    direction, rest = tokens[k], tokens[k + 1:]
    if verb_like(rest, 0) and (np := noun_phrase(rest, 1)) is not None:  # "up goes the square"
        return [*rest[1:np.end], rest[0], direction, *rest[np.end:]]
    if (np := noun_phrase(rest, 0)) is not None and np.pronoun is not None and verb_like(rest, np.end):
        return [*rest[:np.end + 1], direction, *rest[np.end + 1:]]  # "down it comes"
    if (place := noun_phrase(rest, 0)) is not None and verb_like(rest, place.end) and (
            np := noun_phrase(rest, place.end + 1)) is not None:  # "down the screen slides a ball"
        return [*rest[place.end + 1:np.end], rest[place.end], direction, *rest[:place.end], *rest[np.end:]]
    return tokens


# A setting said once for a whole sentence, at its end: "..., all on a gray background".
_WHOLE_SENTENCE_SETTING = re.compile(r",?\s*\ball\s+((?:on|against|over|across)\s+(?:a|an|the)\s+[a-z -]+)$")
_OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}


def _turns_back(tokens: list[str]) -> bool:
    """A predicate that only reverses the way its subjects go: "swap directions", "switch places", "reverses
    (course)", "turns around"."""
    words = [t for t in tokens if t not in ("their", "its", "the", "direction", "directions", "course", "then")]
    return (len(words) == 1 and (base_of(words[0]) or words[0]) in ("swap", "switch", "reverse", "trade")) or (
        len(words) == 2 and base_of(words[0]) == "turn" and words[1] in ("around", "round", "back"))


_MOVING_VERBS = frozenset(MOVE_VERBS) | {"rise", "fall", "sink", "drop", "bounce", "hop", "grow", "shrink", "climb"}
_UP_GOES_NOWHERE = frozenset({"show", "shows", "showed", "shown", "showing", "pop", "pops", "popped", "popping",
                              "wake", "wakes", "woke", "waking", "cheer", "cheers", "cheered", "cheering",
                              "power", "powers", "powered", "powering", "line", "lines", "lined", "lining",
                              "buff", "buffs", "buffing", "buffed", "pull", "pulls", "pulled", "pulling"})


def _purpose_end(tokens: list[str], j: int) -> int | None:
    """Where a purpose that shows nothing ends, if one starts at the "to" of ``tokens[j]`` ("bounces to pass the
    time"); None for a direction, a thing, a motion or a shape ("to the left", "to grow", "to meet the box")."""
    nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
    if (not nxt or nxt in DETERMINERS or nxt in DIRECTIONS or nxt in COLORS or nxt in SIZES or nxt in CONJUNCTIONS
            or nxt in (",", "it", "them", "its") or noun_phrase(tokens, j + 1) is not None
            or base_of(nxt) in _MOVING_VERBS):
        return None
    # it ends where the next clause starts ("... to keep up with it, as it ...")
    end = next((k for k in range(j + 1, len(tokens)) if tokens[k] == "," or tokens[k] in CONJUNCTIONS), len(tokens))
    return None if any(world_noun(np.head) for np in _named(tokens[j:end])) else end


def _start_place(tokens: list[str], j: int) -> int | None:
    """Where a start position ends ("starts on the right side (of the screen)", "begins at the top"), if one is at
    ``tokens[j]``; None otherwise."""
    if base_of(tokens[j]) not in ("start", "begin") or tokens[j + 1:j + 2] not in (["on"], ["at"], ["in"], ["from"]):
        return None
    np = noun_phrase(tokens, j + 2)
    if np is None or not _names_direction(np):
        return None
    end = np.end
    if tokens[end:end + 1] == ["of"] and (frame := noun_phrase(tokens, end + 1)) is not None:
        end = frame.end
    return end


def _verb_list(predicate: list[str]) -> list[list[str]]:
    """A predicate cut where a comma (", and") comes before a verb of its own: "hops, slides right, sinks" is
    three events. A participle after the comma ("hops, sliding right") tells how, in the same event."""
    runs: list[list[str]] = [[]]
    k = 0
    while k < len(predicate):
        if predicate[k] == "," and runs[-1] and verb_like(runs[-1], 0):
            nxt = k + 1 + (predicate[k + 1:k + 2] == ["and"])
            if nxt < len(predicate) and not predicate[nxt].endswith("ing") and verb_like(predicate, nxt):
                runs.append([])
                k = nxt
                continue
        runs[-1].append(predicate[k])
        k += 1
    # "shrinks, and shrinks, and shrinks": one event said again is still one event
    return [run for i, run in enumerate(runs) if not i or run != runs[i - 1]]


def _until_cut(tokens: list[str]) -> tuple[list[str], tuple[str | None, str | None, str | None, int] | None]:
    """A predicate without an "until" clause, and the look the clause says the entity reaches: "grows until it
    is huge" shows the growing, and the entity is huge by its end; the end it reaches ("until it is huge",
    "until it stops") is no second event of the scene."""
    for k, word in enumerate(tokens):
        if word in ("until", "till") and (np := noun_phrase(tokens, k + 1)) is not None and verb_like(tokens, np.end):
            return tokens[:k], change_at(tokens, np.end)
    return tokens, None


def _world_word(word: str | None) -> str | None:
    """A colour or size word as the world reads it: its own ("crimson"), its family's ("gold" -> "yellow"), or None
    for one the world has no word for ("pink")."""
    if word is None or word in WORLD_COLORS or word in WORLD_SIZES:
        return word
    family = COLOR_FAMILY.get(word, SIZE_FAMILY.get(word))
    return family if family in WORLD_COLORS or family in WORLD_SIZES else None


def _only_adjectives(tokens: list[str]) -> bool:
    """A clause of colour or size words alone: the "red" of "it turns blue, then red"."""
    return any(t in COLORS or t in SIZES for t in tokens) and all(
        t in COLORS or t in SIZES or t in DISCOURSE or t in ("and", ",") for t in tokens)


@dataclass
class _Part:
    """One entity's event in a scene."""

    thing: Thing
    event: list[Item]


_PLAIN_BACKGROUNDS = frozenset(BACKGROUND_WORDS.values()) - {"checkered"}
# The planner's relations the world does not have, longest first ("in front of", "next to", "beside"...).
_OTHER_RELATIONS: list[list[str]] = sorted((canonical.split() for _, canonical in RELATIONS
                                            if canonical not in WORLD_RELATIONS), key=len, reverse=True)


def _world_parts(parts: list[_Part]) -> list[_Part]:
    """A scene of a shapes-world story in the words the world reads (:func:`world_phrase_at`).

    Each event keeps its motions ("moving" only with a direction; a lone direction becomes "moving <it>"), its
    stay verbs ("sitting") and "and"; a relation the world has ("above", "to the left of") keeps the shape after
    it. Everything else is dropped: adverbs ("just"), places ("across the park"), verbs the world cannot show
    ("appears"), relations it does not have ("next to", "beside"), things that are no shapes. A shape named
    without a relation the world has is shown beside the others: once, as its own part, unless the scene shows
    it already ("a cube drops next to the ball" with the ball bouncing).
    """
    shown = [p.thing for p in parts]
    extra: list[Thing] = []
    out: list[_Part] = []
    for part in parts:
        event: list[Item] = []
        items, k = part.event, 0
        while k < len(items):
            item = items[k]
            if isinstance(item, _Ref):  # named without a relation the world has: shown beside, once
                if world_noun(item.thing.head) and item.thing not in shown and item.thing not in extra:
                    extra.append(item.thing)
                k += 1
                continue
            if isinstance(item, _Place):  # "across the park": no place the world can show
                k += 1
                continue
            words = _plain_run(items, k)
            other = next((r for r in _OTHER_RELATIONS if words[:len(r)] == r), None)
            if other is not None:  # "next to", "beside", "behind": the whole relation goes
                k += len(other)
                continue
            if words[0] == ",":
                event.append(",")
                k += 1
                continue
            came = direction_after(words, 0) if words[0] == "from" or words[0] in COMPARATIVE_DIRECTIONS else None
            if came is not None:  # "appears from the left": moving right; "floats higher (and higher)": moving up
                event += ["moving", came[0]]
                k += came[1]
                continue
            found = world_phrase_at(words, 0) if words[0] not in QUANTIFIERS else None
            if found is None or (found[0] == "filler" and words[0] != "and" and base_of(words[0]) not in STAY_VERBS):
                k += 1  # a word the world cannot read, or a filler that would dangle ("toward", "the")
                continue
            category, used = found
            if category == "relation":
                target = items[k + used] if k + used < len(items) else None
                if isinstance(target, _Ref) and world_noun(target.thing.head):
                    event += [*words[:used], target]
                    k += 1
                k += used
                continue
            if category == "move_verb":
                direction = world_phrase_at(words, used)
                if direction is None or direction[0] != "direction":
                    k += used
                    continue
                used += direction[1]
            elif category == "direction":  # "floats upward", "rolls away to the left": a direction is a motion
                event += ["moving", DIRECTIONS[words[0]]]
                k += used
                continue
            event += words[:used]
            k += used
        out.append(_Part(part.thing, drop_repeats(tidy(participles(tidy(event))))))
    return out + [_Part(thing, []) for thing in extra]


def _plain_run(items: list[Item], start: int) -> list[str]:
    """The words from ``items[start]`` up to the next entity or place."""
    run: list[str] = []
    for item in items[start:]:
        if not isinstance(item, str):
            break
        run.append(item)
    return run


class _Story:
    """The planner's state while it reads one story: entities, recency, last scene, setting."""

    def __init__(self, world: bool = False) -> None:
        self.world = world  # every entity the story shows is a shape of the world: write for the world's parser
        self.things: list[Thing] = []
        self.shown: list[Thing] = []  # the things scenes have shown as subjects
        self.recent: list[Thing] = []  # most recent mention last
        self.entities: dict[str, Entity] = {}
        self.last_scene: list[Thing] = []
        self.last_subjects: list[Thing] = []  # the last scene's subjects (not the things their events name)
        self.last_all: list[Thing] = []  # everything the last scene shows, the things its relations name too
        self.last_events: dict[int, list[Item]] = {}  # what each of the last scene's subjects did, by id
        self.last_parts: list[_Part] = []  # the last scene's parts, to add to when a clause joins it
        self.looks_changed = 0  # how many changes of look the story has read so far
        self.clause_things: list[Thing] = []  # the things the clause being read has named so far
        self.setting = Setting()
        self.scenes: list[Scene] = []

    # -- entities ------------------------------------------------------------------------------

    def mention(self, thing: Thing) -> Thing:
        self.clause_things.append(thing)
        if thing in self.recent:
            self.recent.remove(thing)
        self.recent.append(thing)
        return thing

    def new_thing(self, np: NounPhrase) -> Thing:
        if np.head == "one" and not np.elided and not np.definite:  # "a red ball ... a blue one": one more of that kind
            kind = next((t for t in reversed(self.recent) if t.head not in GENERIC_NOUNS), None)
            if kind is not None:
                modifiers = np.modifiers or (kind.modifiers if np.determiner == "another" else [])
                np = NounPhrase(np.start, np.end, np.determiner, list(modifiers), singular(kind.head), np.count)
        base = singular(np.head) if np.head not in GENERIC_NOUNS else "shape"
        taken = {t.base_name for t in self.things}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} {n}"
        modifiers, tail = list(np.modifiers), list(np.tail)
        if self.world:  # a shape of the world is described in words the world reads: "a red ball"
            words = [_world_word(m) for m in modifiers if m in COLORS or m in SIZES]
            modifiers, tail = [m for m in words if m is not None], []
        thing = Thing(np.head, modifiers, np.count, name, tail)
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

    def _plural_thing(self, np: NounPhrase) -> bool:
        """Whether a plural phrase ("the balls") has a plural entity ("two balls") to refer to."""
        found = self.find(np)
        return found is not None and found.plural

    def resolve(self, np: NounPhrase, exclude: list[Thing], subject: bool = False) -> list[Thing]:
        """The entities a phrase names; a new one for "a ..." or an unmatched "the ..."."""
        if np.pronoun in ("it", "he"):  # the most recent fitting entity: a person for "he"/"she"
            candidates = [t for t in reversed(self.recent) if t not in exclude and not t.plural]
            if subject:  # a subject "it": what this clause named, else the last scene's subject (not its object)
                candidates.sort(key=lambda t: (t not in self.clause_things, t not in self.last_subjects))
            preferred = [t for t in candidates if t.person == (np.pronoun == "he")]
            found = (preferred or candidates)[:1]
            return [self.mention(t) for t in found]
        if np.pronoun == "they" or (np.definite and np.plural and np.head in GENERIC_NOUNS | {"ones"}):
            return [self.mention(t) for t in self.group()]
        if np.definite and np.plural and not self._plural_thing(np):
            # "both squares", "the two balls": the last two singular things of that kind, when there is no plural one
            kind = [t for t in self.recent if not t.plural and same_kind(t.head, np.head) and compatible(np, t)]
            if len(kind) >= 2:
                return [self.mention(t) for t in kind[-2:]]
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
        kept, reached = _until_cut(tokens)
        if reached is not None:  # "shrinks until it is tiny": the scene's entity ends tiny
            self.change_look(reached, subjects)
        tokens = self.going_on(drop_aspect(_come_to_rest([t for t in kept if t not in DISCOURSE])), subjects)
        items: list[Item] = []
        j = 0
        while j < len(tokens):
            if (self.world and tokens[j] in RELATIVE_PRONOUNS and items and isinstance(items[-1], _Ref)
                    and verb_like(tokens, j + 1)):
                # "next to a square that stays still": what the other thing does is its own; not this event's
                j = tokens.index(",", j) if "," in tokens[j:] else len(tokens)
                continue
            if self.world and tokens[j] == "like" and (np := noun_phrase(tokens, j + 1)) is not None and (
                    np.pronoun is None):
                # "hops like a rubber ball", "climbs up like a sailor up the rigging": a likeness, to the clause's end
                j = next((k for k in range(np.end, len(tokens)) if tokens[k] in (",", "and", "while", "as")),
                         len(tokens))
                continue
            if self.world and tokens[j] == "after" and tokens[j + 1:j + 2] in (["it"], ["them"]) and j + 2 == len(
                    tokens):
                j += 2  # "a small ball bounces after it": after the other one, in time
                continue
            if tokens[j] == "right" and tokens[j + 1:j + 2] in (["where"], ["there"], ["here"], ["before"], ["after"],
                                                                ["away"], ["now"]):
                j += 1  # "stays right where it is", "shrinking right before our eyes": no direction
                continue
            if self.world and tokens[j + 1:j + 2] == ["up"] and (
                    tokens[j] in _UP_GOES_NOWHERE or base_of(tokens[j]) == "give"):
                j += 2  # "shows up", "pops up", "wakes up", "gives up": no motion up
                continue
            if tokens[j:j + 2] in (["a", "bit"], ["at", "all"]) and j and tokens[j - 1] in ("moving", "move", "moves"):
                j += 2  # "not moving a bit", "not moving at all"
                continue
            if self.world and tokens[j] == "to" and (end := _purpose_end(tokens, j)) is not None:
                j = end  # "bounces to pass the time": a purpose, which shows nothing ("rolls to meet the box" does)
                continue
            start = _start_place(tokens, j) if self.world else None
            if start is not None:  # "starts on the right side and travels left": where it starts is no motion
                j = start
                continue
            reached = size_reached_at(tokens, j)
            if reached is not None:  # "shrinks down to a small triangle": shrinking, and small from now on
                self.change_look((reached[0], reached[1], None, 0), subjects)
                items.append(tokens[j])
                j += 1 + reached[2]
                continue
            change = change_at(tokens, j)
            if change is not None:
                self.change_look(change, subjects)
                j += change[3]
                continue
            if tokens[j] in QUANTIFIERS and tokens[j + 1:j + 2] != ["of"] and (
                    j == 0 or (noun_phrase(tokens, j) or NounPhrase(j, j + 1)).end == j + 1):
                j += 1  # "they both bounce", "the box and the wedge both sit": the subjects again, not a mention
                continue
            if tokens[j] in INTENSIFIERS and relation_at(tokens, j + 1) is not None and not (
                    j and base_of(tokens[j - 1]) in MOVE_VERBS):
                j += 1  # "stands right next to", "sits just above": no direction, no word the world reads
                continue
            relation = relation_at(tokens, j)
            np = noun_phrase(tokens, relation[1] if relation else j)
            if np is not None and relation is not None:
                things = self.resolve(np, subjects)
                items += relation[0].split() + (self._refs(things) if things else tokens[relation[1]:np.end])
                j = np.end
                continue
            if np is not None and np.head in FRAME_NOUNS and np.pronoun is None:
                items += tokens[j:np.end]  # "drifts down the screen": the frame is no thing of the scene
                j = np.end
                continue
            if np is not None:
                after_place = bool(items) and isinstance(items[-1], str) and items[-1] in PLACE_PREPOSITIONS
                # in a shapes story a shape is never a place: "rolls toward a blue cube" names the cube
                place = after_place and np.pronoun is None and not (self.world and world_noun(np.head))
                things = [] if place else self.resolve(np, subjects)
                # "across the park" is a place, and an "it" with nothing to refer to stays as written
                if things:
                    items += self._refs(things)
                elif place and not _names_direction(np):  # "to the left", "toward the top" are motions
                    items.append(_Place(tokens[j:np.end]))
                else:
                    items += tokens[j:np.end]
                j = np.end
                continue
            items.append(tokens[j])
            j += 1
        items, motions = canonical_motions(items)
        if motions:  # remembered for a later "keeps sliding"
            for thing in subjects:
                thing.motion = motions[-1]
        return drop_repeats(tidy(participles(tidy(items))))

    def change_look(self, change: tuple[str | None, str | None, str | None, int], subjects: list[Thing]) -> None:
        """Give the subjects a new look: (colour, size, noun, words used) as :func:`change_at` reads it."""
        self.looks_changed += 1
        colour, size, noun = change[:3]
        if self.world:  # "turns gold": the world's word for it
            colour, size = _world_word(colour), _world_word(size)
        for thing in subjects:
            thing.change_look(colour, size, noun)

    @staticmethod
    def going_on(tokens: list[str], subjects: list[Thing]) -> list[str]:
        """A move verb without a direction ("keeps sliding", "moves on") goes the way its subjects last went."""
        last = {thing.motion for thing in subjects}
        direction = last.pop() if len(last) == 1 else None
        if direction not in _TRANSLATIONS:
            return tokens
        out: list[str] = []
        for k, word in enumerate(tokens):
            out.append(word)
            before, nxt = tokens[k - 1:k], tokens[k + 1:k + 2]
            # the predicate's own verb only: not "does not move", "stops moving"
            if (base_of(word) in MOVE_VERBS and (not before or before[0] in ("and", ",")) and direction_after(
                    tokens, k + 1) is None and (not nxt or nxt in _GOES_ON or nxt[0].endswith("ly"))):
                out.append(direction)
        return out

    @staticmethod
    def _refs(things: list[Thing]) -> list[Item]:
        out: list[Item] = []
        for k, thing in enumerate(things):
            if k:
                out.append("and")
            out.append(_Ref(thing))
        return out

    # -- clauses and scenes -----------------------------------------------------------------------

    def subject_groups(self, tokens: list[str]) -> list[tuple[list[NounPhrase], list[str], bool]]:
        """The clause as (subject phrases, predicate tokens, after a bare comma) triples; a clause without a subject
        gives ([], tokens, False)."""
        i = 0
        while i < len(tokens):
            if (tokens[i] in SUBORDINATORS or tokens[i:i + 3] == ["as", "soon", "as"]) and (
                    main := _main_clause(tokens, i)) is not None:
                i = main  # "When the bell rings, a ball drops": the condition shows nothing
            elif (tokens[i] in _SUBJECT_BREAKS or tokens[i] in CONJUNCTIONS or tokens[i] in DISCOURSE
                  or tokens[i] in INTERJECTIONS):
                i += 1
            else:
                break
        if tokens[i:i + 1] and tokens[i] in VIEWERS:  # "we see a ball", "you can watch it fall"
            k = i + 1
            while k < len(tokens) and tokens[k] in ("can", "could", "will", "now", "then", "also", "again"):
                k += 1
            if k < len(tokens) and (base_of(tokens[k]) or tokens[k]) in PRESENTATIVES:
                i = k
        if (self.world and tokens[i:i + 1] in (["here"], ["there"]) and i + 1 < len(tokens)
                and base_of(tokens[i + 1]) in ("come", "go") and noun_phrase(tokens, i + 2) is not None):
            i += 2  # "here comes the green triangle, racing right"
        elif tokens[i:i + 1] and (tokens[i] in ("there", "here") or (tokens[i] in ("it", "this") and _names_known(
                tokens, i + 2))) and tokens[i + 1:i + 2] and tokens[i + 1] in COPULAS:
            i += 2  # "there is a ball", "here is also a ball"
            while i < len(tokens) and tokens[i] in DISCOURSE:
                i += 1
        elif tokens[i:i + 1] and (base_of(tokens[i]) or tokens[i]) in PRESENTATIVES:
            k = i + 1 + (tokens[i + 1:i + 2] in (["at"], ["as"], ["how"]))  # "look at a ball", "watch as a ball"
            if noun_phrase(tokens, k) is not None:
                i = k
        elif (video := noun_phrase(tokens, i)) is not None and video.head in SCENE_NOUNS and verb_like(
                tokens, video.end):  # "the scene opens with a ball", "the video shows a box": what it shows
            shown = next((k for k in range(video.end + 1, len(tokens)) if noun_phrase(tokens, k) is not None), None)
            if shown is not None:
                i = shown
        elif (opens := _opens_with(tokens, i)) is not None:
            i = opens  # "it all starts with a ball", "everything begins with a box"
        groups: list[tuple[list[NounPhrase], list[str], bool]] = []
        leading: list[str] = []  # "In the park, a dog runs": the opening phrase joins the first event
        if noun_phrase(tokens, i) is None:
            opening = _opening(tokens, i, self.world)
            if opening is not None:
                leading, i = opening
        if noun_phrase(tokens, i) is None:
            return [([], tokens[i:], False)] if i < len(tokens) else []
        comma = False
        while i < len(tokens):
            np = subject_phrase(tokens, i)
            if np is None:
                break
            subjects, i = [np], np.end
            while tokens[i:i + 1] == ["and"] and (more := subject_phrase(tokens, i + 1)) is not None:
                subjects.append(more)
                i = more.end
            if tokens[i:i + 1] and tokens[i] in RELATIVE_PRONOUNS and _verb_at(tokens, i + 1):
                i += 1  # "a triangle that rises": the triangle rises
            j = i
            while j < len(tokens):
                if tokens[j] in _SUBJECT_BREAKS:
                    k = j + 1 + (tokens[j + 1:j + 2] in (["and"], ["so"]))
                    nxt = noun_phrase(tokens, k)
                    if nxt is not None and _verb_at(tokens, nxt.end, quantifiers=False):
                        break  # "... while the circle (just) keeps bouncing"
                j += 1
            if leading and verb_like(leading, 0) and canonical_motions(tokens[i:j])[1]:
                leading = []  # "Bouncing, a circle slides left": the clause's own motion is the one shown
            groups.append((subjects, tokens[i:j] + (leading if not groups else []), comma))
            i = j
            while i < len(tokens) and (tokens[i] in _SUBJECT_BREAKS or tokens[i] == "so"):
                i += 1
            comma = tokens[j:i] == [","]
        return groups

    def read_clause(self, tokens: list[str], previous: list[Thing],
                    setting_said: bool = False) -> Iterator[list[_Part]]:
        """The scenes a clause shows, each as parts (entity + event), yielded as each is complete so that a change
        of look later in the clause does not reach back ("rises, turns blue, and then falls"). A clause without a
        subject continues ``previous``. One subject doing things in a list ("it drifts left, it drifts up") does
        them one after another: a scene each. ``setting_said``: the clause had a background or camera phrase."""
        scene: list[_Part] = []
        last_group: tuple[list[Thing], list[Item]] = ([], [])
        self.clause_things = []
        if self.world:  # the ways people write about shapes: asides, clipped phrases, looks and motions put first
            if tokens[:2] in (["cut", "to"], ["cut", "back"]) or tokens[:3] == ["hard", "cut", "to"]:
                tokens = tokens[tokens.index("to") + 1 if "to" in tokens[:4] else 2:]  # "cut to a big blue square"
            tokens = _fronted_arrival(_fronted_look(_absolute_with(_named_list(_one_and_one(_with_articles(
                _comma_adjectives(_fronted_verb(_causative(tokens)))))))))
        tokens, look = _now_look(_fronted_direction(tokens), self.world)
        groups = self.subject_groups(tokens)
        while groups:
            phrases, predicate, after_comma = groups.pop(0)
            if phrases and all(np.head in CAMERA_NOUNS for np in phrases):
                # the camera is no entity: "the camera follows the ball" shows the ball
                shown = next((k for k in range(len(predicate)) if noun_phrase(predicate, k) is not None), None)
                groups[:0] = self.subject_groups(predicate[shown:]) if shown is not None else []
                continue
            subjects: list[Thing] = []
            for np in phrases:
                subjects += self.resolve(np, [], subject=True)
            if not phrases and not previous and (start := _first_subject(predicate)) is not None:
                # nothing to continue: the first subject with a verb starts the clause ("following a cube that slides")
                groups[:0] = self.subject_groups(predicate[start:])
                continue
            if not phrases and not previous and setting_said:
                # the camera or the background had the verb: "the camera pans right over a small disc" shows the disc
                named = _named(predicate)
                subjects = [t for np in named for t in self.resolve(np, [])]
                predicate = _following_event(predicate[named[-1].end:]) if named else []
            elif not phrases:
                subjects = [self.mention(t) for t in previous]
            if not subjects:
                logger.info("clause %r names nothing the planner can place; skipped", " ".join(tokens))
                continue
            look_said = bool(look)
            if look:  # "it, now small, glides left": the first subjects' new look
                self.event(["turns", *look], subjects)
                look = []
            runs = _verb_list(predicate) if self.world else [predicate]
            for k, run in enumerate(runs):  # "it hops, slides right, sinks": one after another
                if (k or after_comma) and run and last_group[1] and last_group[0] == subjects and scene:
                    yield scene
                    scene = []
                if _turns_back(run) and all(t.motion in _OPPOSITE for t in subjects):
                    # "they swap directions", "it turns around": each goes back the way it came
                    parts = [_Part(t, self.event(["moves", _OPPOSITE[t.motion]], [t])) for t in subjects]
                    scene += parts
                    last_group = (subjects, run)
                    continue
                changes = self.looks_changed
                event = self.event(run, subjects) if run else []
                if (self.world and not phrases and not setting_said and not look_said and self.looks_changed == changes
                        and not any(p.event for p in _world_parts([_Part(t, list(event)) for t in subjects]))):
                    continue  # "Like me on a Monday.": nothing the world shows, and no one new: no scene
                scene += [_Part(thing, list(event)) for thing in subjects]
                last_group = (subjects, event or run)
        if scene:
            yield scene

    def add_scene(self, parts: list[_Part]) -> None:
        if self.world:  # "this one was weird": a remark, no shape to show
            parts = [p for p in parts if not _idle_remark(p.thing)]
            if not parts:
                return
        merged: list[_Part] = []
        for part in parts:  # one part per entity; two events of one entity are joined
            same = next((p for p in merged if p.thing is part.thing), None)
            if same is None:
                merged.append(_Part(part.thing, list(part.event)))
            elif part.event:
                same.event += (["and"] if same.event else []) + part.event
        self.last_subjects = [p.thing for p in merged]
        self.last_events = {id(p.thing): p.event for p in merged}
        self.last_parts = [_Part(p.thing, list(p.event)) for p in merged]
        if self.world:
            merged = _world_parts(merged)
        prompt, names = self.render(merged)
        camera = self.setting.camera
        if self.world and camera not in (None, "static") and self.setting.background in _PLAIN_BACKGROUNDS:
            camera = None  # the world pans only over its textured background: over a plain one a pan shows nothing
        setting = setting_phrase(self.setting.background, camera)
        self.scenes.append(Scene(prompt=join_prompt(prompt, setting), entities=names,
                                 background=self.setting.background, camera=self.setting.camera))
        self.last_scene = [p.thing for p in merged]
        named = [item.thing for p in merged for item in p.event if isinstance(item, _Ref)]
        self.last_all = self.last_scene + [t for k, t in enumerate(named) if t not in self.last_scene + named[:k]]
        self.shown += [thing for thing in self.last_scene if thing not in self.shown]

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
                elif isinstance(item, _Place):
                    words += item.words
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
        state = self._read(story, world=True)  # read as a shapes-world story, in the world's words
        if not (state.scenes and all(world_noun(t.head) or _idle_remark(t) for t in state.shown)):
            state = self._read(story, world=False)  # it shows other things: a story about anything
        if not state.scenes:
            raise ValueError("story has no scene the planner can read: start a sentence with what is seen, "
                             "e.g. 'A red ball rolls to the right.'")
        entities = list(state.entities.values())
        return Script(scenes=state.scenes, entities=entities, story=story, seed=seed, planner=self.name)

    @staticmethod
    def _read(story: str, world: bool) -> _Story:
        state = _Story(world)
        background_changed = False  # the last clause only changed the background
        for sentence in sentences(story, world):
            if world and (whole := _WHOLE_SENTENCE_SETTING.search(sentence)) is not None:
                # "grows, then shrinks, all on a gray background": the setting of the whole sentence
                said = take_setting(whole.group(1), world)[1]
                state.setting = Setting(said.background or state.setting.background,
                                        said.camera or state.setting.camera)
            for piece in (part for clause in clauses(sentence) for part in in_time_order(clause, world)):
                text, setting = take_setting(piece, world)
                tokens = tokenize(text)
                if world and (bg := _background_by_pronoun(tokens)) is not None:
                    # "the background turns gray, and next it becomes checkered": no shape of the world is checkered
                    text, setting = take_setting(f"the background turns {bg}", world)
                    tokens = tokenize(text)
                if _only_adjectives(tokens):  # "it turns blue, then red": the last change again, to "red"
                    if background_changed:
                        text, setting = take_setting(f"the background turns {' '.join(tokens)}", world)
                        tokens = tokenize(text)
                    else:
                        tokens = ["turns", *tokens]
                said = setting.background is not None or setting.camera is not None
                state.setting = Setting(setting.background or state.setting.background,
                                        setting.camera or state.setting.camera)
                shown = False
                # "As it rises, a triangle falls": the same time as the last scene, in a shapes story
                joins = world and _joins_last(tokens) and bool(state.scenes) and any(p.event for p in state.last_parts)
                for parts in state.read_clause(tokens, state.last_scene, said):
                    if said and not any(p.event for p in parts):
                        # "the camera pans past them": the entities in the new setting, still doing what they did
                        parts = [_Part(p.thing, list(state.last_events.get(id(p.thing), []))) for p in parts]
                    if joins:  # that scene again, with the new thing
                        state.scenes.pop()
                        new = {id(p.thing) for p in parts}
                        parts = [p for p in state.last_parts if id(p.thing) not in new] + parts
                        joins = False
                    state.add_scene(parts)
                    shown = True
                background_changed = not shown and setting.background is not None
                if not shown and said and state.last_all:
                    # "Then the background turns white.": the same entities in the new setting, the shape a
                    # relation placed ("a box rests beneath a ball") included, still doing what they did; a still
                    # camera said right after an opening that only shows them is still the opening's ("A big
                    # triangle on checkered. The camera's not moving."), a pan is a scene of its own
                    if (world and len(state.scenes) == 1 and not any(p.event for p in state.last_parts)
                            and setting.camera == "static" and setting.background is None):
                        state.scenes.pop()
                    state.add_scene([_Part(t, list(state.last_events.get(id(t), []))) for t in state.last_all])
        return state
