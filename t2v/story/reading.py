"""Reading a story without a model: sentences and clauses, background and camera phrases, noun phrases.

The rule-based planner works on lower-case word tokens. This module finds where one scene ends
(sentence ends and connectives such as "then", "after that", "meanwhile"), takes the setting phrases out
of a clause ("on a black background", "the background turns white", "as the camera pans left"), and
reads noun phrases ("a big red ball", "the circle", "it", "both of them") so the planner can decide
which entity each one is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .vocabulary import (
    BACKGROUND_WORDS,
    COLORS,
    CONJUNCTIONS,
    DESCRIPTIVE_PREPOSITIONS,
    DETERMINERS,
    DIRECTION_SIDES,
    DIRECTIONS,
    DISCOURSE,
    GENERIC_NOUNS,
    KNOWN_NOUNS,
    NUMBER_WORDS,
    PAIR_NOUNS,
    PERSON_PRONOUNS,
    PLURAL_PRONOUNS,
    PREPOSITIONS,
    SINGULAR_PRONOUNS,
    SIZES,
    looks_like_verb,
    participle,
    singular,
)

_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n+")
# A colon does not end a scene: what follows it spells out the clause before ("they swap: the disc moves left").
_COLON = re.compile(r"\s*:+(?=\s|$)")
# "here's", "there's", "it's": the copula written out, so that "here is a ball" reads like "there is a ball".
_IS_CONTRACTION = re.compile(r"\b(here|there|it|that)'s\b")
# In a shapes story, "the background's black", "the camera's static": the copula, not a possessive ("the
# background's colour" stays a possessive).
_SETTING_CONTRACTION = re.compile(
    r"\b(background|backdrop|screen)'s(?=\s+(?:now\s+)?(?:" + "|".join(sorted(BACKGROUND_WORDS)) + r")\b)|"
    r"\b(camera)'s(?=\s+(?:now\s+|not\s+)?(?:static|still|fixed|steady|stationary|locked|moving|panning)\b)")
_CONNECTIVE = re.compile(
    r"(?:,\s*)?\b(?:and\s+)?(?:at\s+first|first\s+of\s+all|in\s+the\s+beginning|to\s+begin\s+with|then|"
    r"initially|originally|at\s+the\s+(?:start|outset)|to\s+start(?:\s+with)?|"
    r"after\s+that|after\s+this|afterwards?|next(?:\s+up\b)?(?!\s+to\b)|finally|meanwhile|later(?:\s+on)?|eventually|"
    r"at\s+last|"
    r"in\s+the\s+end|at\s+the\s+end(?:\s+of\s+(?:the|this)\s+(?:video|clip|scene|story))?|after\s+a\s+while|"
    r"(?:soon|shortly|right|straight|just|immediately)\s+after(?:wards?|\s+that|\s+this)?|just\s+then|"
    r"(?:a|one)\s+(?:moment|second|minute|bit|little(?:\s+bit|\s+while)?|short\s+(?:while|time)|while|"
    r"few\s+(?:seconds|moments))\s+later|(?:some|much)\s+(?:time\s+)?later|later\s+still|"
    r"not\s+(?:long|much\s+later)\s+after(?:wards?|\s+that|\s+this)?|before\s+long|after\s+some\s+time|"
    r"after\s+which|following\s+(?:that|this)|at\s+(?:that|this)\s+point|"
    r"lastly|last(?=\s*,|\s+(?:the|a|an|it|they)\b)|"
    r"and(?=\s+(?:once|as\s+soon\s+as)\s)|"
    r"(?:moments|seconds|minutes|instants)\s+later|after\s+(?:a|one)\s+(?:moment|second|bit|few\s+(?:seconds|moments))|"
    r"(?:when|once|after)\s+(?:it|they|that|this)\s+(?:is|are|was|were|has|have)\s+(?:been\s+)?(?:done|finished|over))"
    r"\b\s*,?")
# Typed-in-a-hurry words of a shapes story: missing apostrophes, "vs", and fillers that show nothing.
_CASUAL_WORDS = {"theres": "there is", "thats": "that is", "vs": "and", "versus": "and"}
_CASUAL = re.compile(r"\b(?:theres|thats|vs|versus|lol|lmao|lmfao|omg|ngl|tbh|haha|hehe|gg|folks|sweetheart|whatever|"
                     r"uh\s+oh|bless\s+it|ladies\s+and\s+gentlemen|what\s+(?:a|an)\s+[a-z]+(?:\s+by)?|what(?:'s|\s+is)\s+this|wow|"
                     r"my\s+favou?rite(?:\s+one)?\s+(?:was|is)|here\s+we\s+go|look\s+at\s+(?:that|this)\s+[a-z]+|"
                     r"arr|ahoy|matey|yo\s+ho|shiver\s+me\s+timbers|beep\s+boop|end\s+of\s+(?:report|transmission|"
                     r"sequence|story)|executing\s+sequence|step\s+(?:one|two|three|four|five|\d+)|fr|no\s+cap|lowkey|"
                     r"deadass|the\s+vibe(?:\s+here)?\s+is|here\s+we\s+have)\b")
# A listener or reader addressed, and times that show nothing: "Listeners, ...", "..., dear,", "then one day".
_ADDRESSED = re.compile(
    r"(?:^|(?<=[,.!?;:]))\s*(?:listeners|viewers|everyone|friends|kids|dear|child|sweetie)\s*(?=[,.!?;])|"
    r"\bone\s+(?:day|morning|night|evening|afternoon)\b|\blet\s+me\s+tell\s+you\s+about\b|\bwhen\s+i\s+was\s+young\b")
# A setting said first in a sentence, without its article: "Background then changed to black."
_BARE_SETTING_START = re.compile(r"(^|[.!?;]\s+)(background|backdrop|screen|camera)\b")
_THATS_IT = re.compile(r"\bthat(?:'s|\s+is)\s+(?:literally\s+|just\s+|all\s+)?"
                       r"(?:it|all|the\s+(?:whole\s+)?(?:piece|end|story))\b")
# A dropped g: "bouncin'", "pannin'" (a pirate, a cowboy).
_DROPPED_G = re.compile(r"\b([a-z]+)in'(?=\s|[,.!?;:]|$)")
_AS_IF = re.compile(r",?\s*\bas\s+(?:if|though)\b[^,.;!?]*")
_SAME_TIME = re.compile(r",?\s*\b(?:at\s+the\s+same\s+(?:time|moment)|simultaneously)\b,?")
# A sentence after a semicolon that happens at the same time joins the one before: "...; a square slides left at
# the same moment" is one scene.
_SAME_TIME_SENTENCE = re.compile(r";\s*(?=[^.;!?]*\bat\s+the\s+same\s+(?:time|moment)\b)")
_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|,")
# "its colour changes to red", "the ball's size ...": the look is the thing's own, so the thing is the subject
# ("it changes to red") and the change verb after it reads as usual.
_POSSESSIVE_LOOK = re.compile(r"\b(?:(its)|(their)|([a-z]+)'s)\s+(?:colou?r|size|shade|hue)\b")

def sentences(story: str, world: bool = False) -> list[str]:
    """The story's sentences, lower case, without their end marks. ``world``: a shapes story, where a dash sets
    off an aside, "as if ..." shows nothing, and "at the same time" keeps events in one scene."""
    text = _IS_CONTRACTION.sub(r"\1 is", story.replace("\u2019", "'").lower()).replace("now-", "now ")
    if world:
        text = _CASUAL.sub(lambda m: _CASUAL_WORDS.get(m.group(0), " "), text)  # "theres", "vs", "lol"
        text = _THATS_IT.sub(" ", text)  # "that's literally it": the story's end, no scene
        text = _DROPPED_G.sub(r"\1ing", text)
        text = _ADDRESSED.sub(" ", text)
        text = _BARE_SETTING_START.sub(r"\1the \2", text)
        text = _SETTING_CONTRACTION.sub(lambda m: f"{m.group(1) or m.group(2)} is", text)
        text = text.replace("\u2014", ",").replace("\u2013", ",").replace(" - ", ", ")
        text = _AS_IF.sub("", text)  # "..., as if looking for adventure": a manner, nothing shown
        text = _SAME_TIME_SENTENCE.sub(", and ", text)
        text = _SAME_TIME.sub(" ", text)  # "and at the same time a square falls": the same scene
    text = _POSSESSIVE_LOOK.sub(lambda m: "it" if m.group(1) else "they" if m.group(2) else m.group(3), text)
    return [_COLON.sub(",", s).strip() for s in _SENTENCE_END.split(text) if s.strip()]


def clauses(sentence: str) -> list[str]:
    """A sentence cut at its connectives ("..., then ...", "after that", "meanwhile"); empty pieces dropped.

    A connective right after a bare subject ("It then turns orange", "The backdrop then becomes black")
    orders nothing: the sentence stays one clause, without it.
    """
    pieces: list[str] = []
    start, carried = 0, ""
    for match in _CONNECTIVE.finditer(sentence):
        word = re.sub(r"^and\s+", "", match.group(0).strip(" ,"))
        if _CLAUSE_START_ONLY.match(word) and not (
                (match.start() == 0 or match.group(0).startswith(",")) and has_event(sentence[match.end():])):
            continue  # "fails to start", "will last the night", "the dog, originally white, turns brown"
        left = carried + sentence[start:match.start()]
        if not match.group(0).startswith((",", "and")) and _bare_subject(left):
            carried = left + " "
        elif not match.group(0).startswith((",", "and")) and (joined := _and_bare_subject(left)) is not None:
            pieces.append(joined[0])  # "a box drops, and a wedge then rises": the wedge's rising comes after
            carried = joined[1] + " "
        else:
            pieces.append(left)
            carried = ""
        start = match.end()
    pieces.append(carried + sentence[start:])
    return [piece.strip(" ,") for piece in pieces if piece.strip(" ,")]


# Connectives that order a clause only at its start (or after a comma) and before a clause of its own.
_CLAUSE_START_ONLY = re.compile(r"^(?:initially|originally|at\s+the\s+(?:start|outset)|to\s+start(?:\s+with)?|"
                                r"lastly|last)$")


def has_event(text: str, anywhere: bool = False) -> bool:
    """Whether ``text`` starts with a subject and its verb (``anywhere``: has one somewhere)."""
    tokens = tokenize(text)
    starts = range(len(tokens)) if anywhere else range(1)
    for k in starts:
        np = noun_phrase(tokens, k)
        if np is not None and verb_like(tokens, np.end):
            return True
    return False


def _and_bare_subject(text: str) -> tuple[str, str] | None:
    """A clause that ends in ", and <subject>" ("a box drops, and a wedge" of "..., and a wedge then rises"),
    split there: the event before and the bare subject; None otherwise."""
    match = re.match(r"^(.*\S)\s*,?\s+and\s+(\S.*)$", text)
    if match is None or not _bare_subject(match.group(2)) or not has_event(match.group(1), anywhere=True):
        return None
    return match.group(1), match.group(2)


def _bare_subject(text: str) -> bool:
    """A subject alone, or with its copula: "it" of "it then turns", "the cube is" of "the cube is then painted"
    (also after "when", "once"...: "when it finally arrived")."""
    tokens = tokenize(text)
    while tokens[:1] in (["when"], ["once"], ["after"], ["before"], ["until"], ["while"], ["as"], ["soon"]):
        tokens = tokens[1:]
    np = noun_phrase(tokens, 0)
    return np is not None and (np.end == len(tokens) or tokens[np.end:] in (["is"], ["was"], ["are"], ["were"]))


def tokenize(text: str) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    return [t for k, t in enumerate(tokens) if not (t == "," and k and tokens[k - 1] == ",")]  # ", ," left by cuts


# -- noun phrases --------------------------------------------------------------------------------

@dataclass
class NounPhrase:
    """A mention: a pronoun ("it", "they", "both of them") or a determiner with modifiers and a head."""

    start: int
    end: int  # one past the last token
    determiner: str | None = None
    modifiers: list[str] = field(default_factory=list)
    head: str = ""
    count: str | None = None  # a number word: "two red balls"
    pronoun: str | None = None  # "it", "he" (a person) or "they"
    tail: list[str] = field(default_factory=list)  # a post-modifier: "in a red coat"
    elided: bool = False  # no noun was written: "the red" reads as "the red one"

    @property
    def plural(self) -> bool:
        if self.pronoun is not None:
            return self.pronoun == "they"
        return self.count is not None or singular(self.head) != self.head or self.determiner in (
            "these", "those", "some", "both")

    @property
    def definite(self) -> bool:
        """Refers back ("the ball", "this box") rather than introducing something ("a ball", "another ball")."""
        return self.pronoun is not None or self.determiner in ("the", "this", "that", "these", "those", "both",
                                                               "its", "their", "our", "my", "your")


def _ends_phrase(word: str) -> bool:
    return (word == "," or word in CONJUNCTIONS or word in PREPOSITIONS or word in DETERMINERS
            or word in DISCOURSE or word in SINGULAR_PRONOUNS or word in PLURAL_PRONOUNS)


def participle_at(tokens: list[str], k: int) -> bool:
    """Whether ``tokens[k]`` is a verb's -ing form ("gliding to the right", "bouncing on a grey floor")."""
    return k < len(tokens) and tokens[k].endswith("ing") and verb_like(tokens, k)


def verb_like(tokens: list[str], k: int) -> bool:
    """Whether ``tokens[k]`` is a verb: a known verb form, or an -s word not followed by a known verb
    ("a dog barks" but "brown dogs bark"): no POS tagger, so this is a guess for unknown words."""
    if k >= len(tokens):
        return False
    word = tokens[k]
    if looks_like_verb(word):
        return True
    if word in KNOWN_NOUNS or word in GENERIC_NOUNS or singular(word) in KNOWN_NOUNS:
        return False
    nxt = tokens[k + 1] if k + 1 < len(tokens) else ""
    return word.endswith("s") and participle(word) != word and not looks_like_verb(nxt)


def _pronoun(tokens: list[str], i: int) -> NounPhrase | None:
    word = tokens[i]
    if word in SINGULAR_PRONOUNS:
        return NounPhrase(i, i + 1, pronoun="he" if word in PERSON_PRONOUNS else "it")
    if word in ("they", "them"):
        end = i + 1
        if tokens[end:end + 1] and tokens[end] in ("both", "all", "each"):
            end += 1
        return NounPhrase(i, end, pronoun="they")
    if word in ("both", "all", "each") and tokens[i + 1:i + 3] == ["of", "them"]:
        return NounPhrase(i, i + 3, pronoun="they")
    if word == "both" and (i + 1 >= len(tokens) or verb_like(tokens, i + 1)):
        return NounPhrase(i, i + 1, pronoun="they")
    return None


def noun_phrase(tokens: list[str], i: int) -> NounPhrase | None:
    """The noun phrase starting at ``tokens[i]``, or None if none starts there."""
    if i >= len(tokens):
        return None
    pronoun = _pronoun(tokens, i)
    if pronoun is not None:
        return pronoun
    determiner = tokens[i]
    if determiner not in DETERMINERS and determiner != "both":
        return None
    j = i + 1
    count = determiner if determiner in NUMBER_WORDS else None
    if count is None and tokens[j:j + 1] and tokens[j] in NUMBER_WORDS:
        count, j = tokens[j], j + 1
    elif count is None and tokens[j:j + 1] and tokens[j] in PAIR_NOUNS:  # "a pair of balls", "the pair"
        count, j = "two", j + 1 + (tokens[j + 1:j + 2] == ["of"])
    plural_determiner = count is not None or determiner in ("these", "those", "some", "both", "their")
    words: list[str] = []
    while j < len(tokens):
        word = tokens[j]
        if word in KNOWN_NOUNS or singular(word) in KNOWN_NOUNS or word in GENERIC_NOUNS:
            words.append(word)
            j += 1
            break
        if _ends_phrase(word):
            break
        if not words and count is not None and looks_like_verb(word):  # "the two bounce", "the pair rise"
            break
        if not words and word in DIRECTIONS and not (tokens[j + 1:j + 2] and (
                tokens[j + 1] in KNOWN_NOUNS or tokens[j + 1] in GENERIC_NOUNS or tokens[j + 1] in DIRECTION_SIDES)):
            words.append(word)  # "to the left together": the direction is the head, not a modifier
            j += 1
            break
        if words and word not in COLORS and word not in SIZES and not words[-1].endswith("'s") and (
                looks_like_verb(word) or (not plural_determiner and verb_like(tokens, j))):
            break  # (after a possessive the next word is the head: "a moment's rest")
        words.append(word)
        j += 1
    if not words:
        if count is not None:  # "the two", "both": a plural reference without a noun
            return NounPhrase(i, j, determiner=determiner, head="ones", count=count)
        return None
    head, modifiers = words[-1], words[:-1]
    if head in COLORS or head in SIZES:  # "the red" (one)
        return NounPhrase(i, j, determiner=determiner, modifiers=words, head="one", count=count, elided=True)
    return NounPhrase(i, j, determiner=determiner, modifiers=modifiers, head=head, count=count)


# Words an aside of colour and size words may hold besides them: "kinda small", "bright orange", "colored green".
_ASIDE_WORDS = frozenset({"kinda", "quite", "very", "rather", "pretty", "fairly", "bright", "pale", "dark", "light",
                          "deep", "colored", "coloured", "painted", "a", "an", "one", "size"})


def subject_phrase(tokens: list[str], i: int) -> NounPhrase | None:
    """A subject noun phrase at ``tokens[i]`` with its post-modifier when a verb follows it: "a little girl
    in a red coat plays" keeps "in a red coat" as part of the girl's description."""
    np = noun_phrase(tokens, i)
    if np is None or np.pronoun is not None or np.end >= len(tokens):
        return np
    if tokens[np.end] == ",":  # "a ball, red and tiny, slides left": adjectives set off by commas describe it
        k = np.end + 1
        while k < len(tokens) and (tokens[k] in COLORS or tokens[k] in SIZES or tokens[k] == "and"
                                   or tokens[k] in _ASIDE_WORDS):
            k += 1
        if tokens[k:k + 1] in (["as"], ["like"]) and "," in tokens[k:]:
            k = tokens.index(",", k)  # "a triangle, small as a whisper, drifts": a likeness ends the aside
        adjectives = [t for t in tokens[np.end + 1:k] if t in COLORS or t in SIZES]
        after = tokens[k + 1:k + 2]
        adverb = after in (["just"], ["still"]) or (after != [] and after[0].endswith("ly"))
        verb = k + 1 + adverb  # "a triangle, kinda small, just hanging out"
        if adjectives and tokens[k:k + 1] == [","] and (verb_like(tokens, verb) or tokens[verb:verb + 1] != [] and (
                tokens[verb].endswith("ing"))):
            # "big blue", sizes first as a caption writes them
            words = list(dict.fromkeys(np.modifiers + adjectives))  # "a red ball, bright red": red once
            np.modifiers = sorted(words, key=lambda word: word not in SIZES)
            np.end = k + 1
    if tokens[np.end] in DESCRIPTIVE_PREPOSITIONS:
        inner = noun_phrase(tokens, np.end + 1)
        if inner is not None and inner.pronoun is None and verb_like(tokens, inner.end):
            np.tail = tokens[np.end:inner.end]
            np.end = inner.end
    return np
