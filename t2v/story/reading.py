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

from .phrasing import background_value, camera_value
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
    base_of,
    looks_like_verb,
    participle,
    participle_of_base,
    singular,
)

_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n+")
# A colon does not end a scene: what follows it spells out the clause before ("they swap: the disc moves left").
_COLON = re.compile(r"\s*:+(?=\s|$)")
# "here's", "there's", "it's": the copula written out, so that "here is a ball" reads like "there is a ball".
_IS_CONTRACTION = re.compile(r"\b(here|there|it|that|background|backdrop|camera|screen)'s\b")
_CONNECTIVE = re.compile(
    r"(?:,\s*)?\b(?:and\s+)?(?:at\s+first|first\s+of\s+all|in\s+the\s+beginning|to\s+begin\s+with|then|"
    r"initially|originally|at\s+the\s+(?:start|outset)|to\s+start(?:\s+with)?|"
    r"after\s+that|after\s+this|afterwards?|next(?!\s+to\b)|finally|meanwhile|later(?:\s+on)?|eventually|at\s+last|"
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
_AS_IF = re.compile(r",?\s*\bas\s+(?:if|though)\b[^,.;!?]*")
_SAME_TIME = re.compile(r",?\s*\b(?:at\s+the\s+same\s+(?:time|moment)|simultaneously)\b,?")
# A sentence after a semicolon that happens at the same time joins the one before: "...; a square slides left at
# the same moment" is one scene.
_SAME_TIME_SENTENCE = re.compile(r";\s*(?=[^.;!?]*\bat\s+the\s+same\s+(?:time|moment)\b)")
_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|,")
# "its colour changes to red", "the ball's size ...": the look is the thing's own, so the thing is the subject
# ("it changes to red") and the change verb after it reads as usual.
_POSSESSIVE_LOOK = re.compile(r"\b(?:(its)|(their)|([a-z]+)'s)\s+(?:colou?r|size|shade|hue)\b")

_BG_NOUNS = r"background|backdrop|floor|ground|surface|wall|screen|stage|sky|field|canvas|bg|pattern|board"
_BG_NOUN = r"(?:" + _BG_NOUNS + r")"
# A background phrase after any preposition of place: "on a white background", "across a gray floor".
_BACKGROUND_PHRASE = re.compile(
    r"\b(?:on|onto|upon|against|over|across|along|through|around|in|at|of|with|in\s+front\s+of)\s+"
    r"(?:(?:a|an|the|its|their)\s+)?"
    r"((?:[a-z-]+\s+){0,2}?)(" + _BG_NOUN + r")\b")
# A checkerboard named as the thing under the shapes: "glides left on a checkerboard".
_CHECKERBOARD = re.compile(r"\b(?:on|onto|over|across|against)\s+(?:a\s+|the\s+)?(checkerboard|chessboard)\b")
# A background named as a thing: "There's a white background with a red wedge", "A grey backdrop. A ball...".
# Only "background" and "backdrop" (a "red floor" could be a thing) and only with an adjective.
_BARE_BACKGROUND = re.compile(
    r"\b(?:(?:there|here)\s+is\s+|we\s+see\s+)?(?:a|an|the)\s+((?:[a-z-]+\s+){1,2}?)(background|backdrop|screen)\b"
    r"(?:\s+with\b)?")
# A background ordered: "Make the background white.", "set the backdrop to grey".
_BACKGROUND_ORDERED = re.compile(r"\b(?:make|set|paint|turn|change)\s+the\s+(?:background|backdrop|screen|bg)\s+"
                                 r"(?:to\s+)?(" + "|".join(sorted(BACKGROUND_WORDS)) + r")\b")
# A background crossed: "a triangle crosses the white screen" (the verb stays, the background goes).
_CROSSED_BACKGROUND = re.compile(
    r"\b(cross(?:es|ed|ing)?|travers(?:es|ed|ing|e)|shar(?:es|ed|ing|e)|fill(?:s|ed|ing)?|down|up)\s+(?:a|an|the)\s+"
    r"((?:[a-z-]+\s+){1,2}?)(" + _BG_NOUNS + r")\b")
# A background colour alone after "on" / "against": "two circles sit side by side on white", "on grey, a box falls".
_COLOUR_ONLY_BACKGROUND = re.compile(
    r"\b(?:on|against|over)\s+(" + "|".join(sorted(BACKGROUND_WORDS)) + r")(?=\s*(?:,|$)|\s+(?:and|while|as|then)\b)")
# A background colour that changes, named by its colour alone: "then black changes to white".
_COLOUR_CHANGES = re.compile(
    r"^\s*(?:(?:as|while|when)\s+)?(?:the\s+)?(?:" + "|".join(sorted(BACKGROUND_WORDS)) + r")\s+"
    r"(?:turns|changes|becomes|switches|goes|gives\s+way)\s+(?:to\s+|into\s+)?(" + "|".join(sorted(BACKGROUND_WORDS))
    + r")\b,?")
# A camera that goes on as it was: "..., the camera still panning along" (no change of setting).
_CAMERA_GOES_ON = re.compile(r",?\s*\b(?:(?:with|while|as|and)\s+)?the\s+camera\s+(?:still|keeps|continues|continuing)"
                             r"\s+(?:panning|to\s+pan|moving)(?:\s+along|\s+(?:to\s+the\s+)?(?:left|right))?\b")
# A background said without an article, as in a list of what is on screen: "Scarlet circle, white backdrop: ...".
_LISTED_BACKGROUND = re.compile(
    r"(?:^|(?<=,))\s*(" + "|".join(sorted(BACKGROUND_WORDS)) + r")\s+(" + _BG_NOUNS + r")\b\s*(?=,|$)")
# A floor, ground or wall is a setting on its own only when it is the whole clause: "A checkered floor."
_LONE_FLOOR = re.compile(r"^\s*(?:(?:there|here)\s+is\s+|(?:picture|imagine|see|show|we\s+see)\s+)?(?:a|an|the)\s+"
                         r"((?:[a-z-]+\s+){1,2}?)(" + _BG_NOUNS
                         + r")\s*$")
# The old background may be named before it changes: "the white background turns black".
_OLD_BACKGROUND = r"(?:(?:" + "|".join(sorted(BACKGROUND_WORDS)) + r")\s+)?"
_BACKGROUND_CHANGE = re.compile(
    r"\b(?:the\s+)?" + _OLD_BACKGROUND + r"(?:background|backdrop|floor|screen|bg|world(?:\s+around\s+(?:it|them))?)\s+"
    r"(?:turns|turned|turn|becomes|became|become|changes|changed|change|goes|went|go|switch|"
    # the passive before the bare copula: "is changed to checkered" names checkered, not "changed"
    r"switches|switched|fades|faded|(?:is|was|gets|got|has\s+been|had\s+been)\s+(?:now\s+)?(?:changed|turned|"
    r"switched|set|made|painted|coloured|colored)|is|was)(?:\s+now)?(?:\s+from\s+(?:a\s+|an\s+)?[a-z-]+)?"
    r"(?:\s+(?:to|into))?\s+(?:a\s+|an\s+)?([a-z-]+)"
    r"(?:\s+(?:one|colou?r|" + _BG_NOUNS + r"))?\b|"
    # "the scene switches to a checkered floor": a change of scene to a background phrase
    r"\b(?:the\s+)?(?:scene|setting)\s+(?:turns|turned|changes|changed|switches|switched|shifts|shifted|cuts|cut|"
    r"moves|moved)\s+(?:to|into)\s+(?:a\s+|an\s+|the\s+)?([a-z-]+)\s+(?:" + _BG_NOUNS + r")\b")
# Any verb that takes the background "to" a colour of its own: "the backdrop flips to white", "shifts into grey".
_BACKGROUND_TO = re.compile(
    r"\b(?:the\s+)?" + _OLD_BACKGROUND + r"(?:background|backdrop|floor|screen)\s+(?:[a-z]+\s+){1,2}?(?:to|into)\s+"
    r"(?:a\s+|an\s+)?(" + "|".join(sorted(BACKGROUND_WORDS)) + r")(?:\s+(?:one|colou?r|" + _BG_NOUNS + r"))?\b")
_CAMERA_MOVE = re.compile(
    r"\b(?:(?:as|while|and|with|when)\s+)?(?:the\s+)?(?:camera|view)\s+(?:[a-z']+,?\s+){0,3}?"
    r"((?:pan|sweep|mov|turn|swing|tilt|zoom|track|drift|glid|slid|shift)[a-z]*)\s+(?:[a-z]+ly\s+)?(?:back\s+)?"
    r"(?:to\s+the\s+)?"
    r"(left|right|up|down|in|out|leftwards?|rightwards?|upwards?|downwards?)\b")
# A pan whose subject was the camera of the clause before: "The camera pans right, then pans left."
_BARE_PAN = re.compile(r"^\s*(?:and\s+)?(?:then\s+)?(?:it\s+)?((?:pan|sweep)(?:s|ned|ning|ed|ing)?|swept)\s+"
                       r"(?:[a-z]+ly\s+)?(?:back\s+)?(?:to\s+the\s+)?(left|right)\b")
_CAMERA_STATIC = re.compile(
    r"\b(?:(?:as|while|and|with|from|using|through)\s+)?(?:(?:a|an|the)\s+)?"
    r"(?:static|fixed|steady|still|stationary|locked)\s+camera\b|"
    r"\bunder\s+(?:a|the)\s+(?:static|fixed|steady|still|stationary|locked)\s+camera\b|"
    r"\b(?:(?:as|while|and|with)\s+)?the\s+camera\s+(?:is|stays|remains|holds|held|was|stayed|remained|keeps|kept)\s+"
    r"(?:static|still|fixed|steady|stationary)\b|"
    r"\b(?:(?:as|while|and)\s+)?the\s+camera\s+(?:does\s+not|doesn't|did\s+not|didn't)\s+move\b|"
    r"\bwith\s+the\s+camera\s+(?:now\s+)?(?:static|still|fixed|steady|stationary|locked|holding\s+(?:still|steady))\b|"
    # an absolute phrase: "..., the camera not moving", "camera not moving"
    r"(?:,\s*)?\b(?:(?:with|and)\s+)?(?:the\s+)?camera\s+(?:not\s+moving|unmoving|motionless|holding\s+(?:still|steady))\b|"
    # a camera that stops (panning) holds still from then on
    r"\b(?:(?:as|while|and)\s+)?the\s+camera\s+(?:stops|stopped|halts|halted|freezes|froze)"
    r"(?:\s+(?:moving|panning|sweeping))?"
    # "... and stays fixed": the same stop said twice
    r"(?:\s+and\s+(?:stays|remains|holds|keeps|is)\s+(?:static|still|fixed|steady|stationary))?\b")


def sentences(story: str) -> list[str]:
    """The story's sentences, lower case, without their end marks."""
    text = _IS_CONTRACTION.sub(r"\1 is", story.replace("\u2019", "'").lower()).replace("now-", "now ")
    text = text.replace("\u2014", ",").replace("\u2013", ",").replace(" - ", ", ")  # dashes set off asides
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
    return [part for piece in pieces for part in _in_time_order(piece.strip(" ,")) if part]


# Not "once" or "when": "once it stops hopping, it turns blue" says when the main event starts, no event of its own.
_LEADING_TIME = re.compile(r"^(after|before)\s+(.+?)\s*,\s*(.+)$")
_TRAILING_TIME = re.compile(r"^(.+?)\s*,?\s+(before|until|till)\s+(.+)$")


# "Once the cube has grown, ...", "As soon as the ball has finished bouncing, ...": an event done before the main one.
_PERFECT_LEAD = re.compile(r"^(?:once|when|as\s+soon\s+as)\s+(.+?)\s+(?:has|have|had)\s+"
                           r"(?:(?:finished|stopped|completed|done)\s+)?([a-z]+)(.*?)\s*,\s*(.+)$")
_ONCE_LOOK = re.compile(r"^(?:once|when|as\s+soon\s+as)\s+(?:it|they)\s+(?:is|are|has\s+become|becomes|gets)\s+"
                        r"([a-z]+(?:\s+(?:and\s+)?[a-z]+)?)\s*,\s*(.+)$")
_PAST_PARTICIPLES = {"grown": "grow", "shrunk": "shrink", "risen": "rise", "fallen": "fall", "sunk": "sink",
                     "gone": "go", "come": "come", "swollen": "swell", "slid": "slide", "flown": "fly"}


def _perfect_lead(piece: str) -> list[str] | None:
    """The finished event of a "once ... has <done>" opening and the main clause, in time order; None if the
    piece has no such opening."""
    match = _PERFECT_LEAD.match(piece)
    if match is None or not _has_event(match.group(4)):
        return None
    subject, verb, rest, main = match.groups()
    base = _PAST_PARTICIPLES.get(verb) or base_of(verb)
    if verb.endswith("ing"):
        form = verb
    elif base is not None:
        form = participle_of_base(base)
    else:
        return None
    tokens = tokenize(subject)
    np = noun_phrase(tokens, 0)
    if np is None or np.end != len(tokens):
        return None
    return [f"{subject} {form}{rest}", main]


def _in_time_order(piece: str) -> list[str]:
    """A clause with a subordinate event, as its events in the order they happen.

    "After the box slides up, it drops" and "the box slides up before it drops" are two scenes; so is "they
    rest until they begin to rise" (an "until" that only says where an event ends, "grows until it is huge",
    stays one). A subordinate clause needs a subject and a verb of its own ("before long" is no event).
    """
    if (done := _perfect_lead(piece)) is not None:
        return done
    if (reached := _ONCE_LOOK.match(piece)) is not None:  # "once it is big, it bounces": big from here on
        return [f"now {reached.group(1)}, {reached.group(2)}"]
    lead = _LEADING_TIME.match(piece)
    if lead and _has_event(lead.group(3)) and _participle_first(lead.group(2)):
        # "After gliding right, the square turns green": the gliding is the square's, first
        tokens = tokenize(lead.group(3))
        subject = noun_phrase(tokens, 0)
        if subject is not None:  # the thing is named in the first event and is "it" in the second
            named, pronoun = " ".join(tokens[:subject.end]), "they" if subject.plural else "it"
            main = " ".join(tokens[subject.end:])
            if lead.group(1) == "before":
                return [f"{named} {main}", f"{pronoun} {lead.group(2)}"]
            return [f"{named} {lead.group(2)}", f"{pronoun} {main}"]
    if lead and _has_event(lead.group(2)) and _has_event(lead.group(3)):
        first, then = lead.group(2), lead.group(3)
        return _subject_first(then, first) if lead.group(1) == "before" else [first, then]
    trail = _TRAILING_TIME.match(piece)
    if trail and trail.group(2) == "before" and _participle_first(trail.group(3)) and _has_event(
            trail.group(1), anywhere=True):
        return [trail.group(1), trail.group(3)]  # "rests before floating upward": then it floats
    if trail and _has_event(trail.group(3)) and _has_event(trail.group(1), anywhere=True):
        if trail.group(2) == "before" or _starts_event(trail.group(3)):
            return [trail.group(1), trail.group(3)]
    return [piece]


def _subject_first(earlier: str, later: str) -> list[str]:
    """Two events put back in time order; the pronoun that pointed ahead ("Before the ball falls, it bounces")
    swaps with the subject it pointed to, so that the first event names the thing."""
    first, second = tokenize(earlier), tokenize(later)
    np_first, np_second = noun_phrase(first, 0), noun_phrase(second, 0)
    if np_first is not None and np_second is not None and np_first.pronoun and not np_second.pronoun:
        first, second = (second[:np_second.end] + first[np_first.end:],
                         first[:np_first.end] + second[np_second.end:])
        return [" ".join(first), " ".join(second)]
    return [earlier, later]


def _participle_first(text: str) -> bool:
    """Whether ``text`` starts with a verb's -ing form ("gliding to the right")."""
    tokens = tokenize(text)
    return bool(tokens) and tokens[0].endswith("ing") and verb_like(tokens, 0)


def _has_event(text: str, anywhere: bool = False) -> bool:
    """Whether ``text`` starts with a subject and its verb (``anywhere``: has one somewhere)."""
    tokens = tokenize(text)
    starts = range(len(tokens)) if anywhere else range(1)
    for k in starts:
        np = noun_phrase(tokens, k)
        if np is not None and verb_like(tokens, np.end):
            return True
    return False


def _starts_event(text: str) -> bool:
    """A subject that starts to do something: "they begin to rise", "it starts moving"."""
    tokens = tokenize(text)
    np = noun_phrase(tokens, 0)
    return np is not None and np.end < len(tokens) and base_of(tokens[np.end]) in ("start", "begin")


def _and_bare_subject(text: str) -> tuple[str, str] | None:
    """A clause that ends in ", and <subject>" ("a box drops, and a wedge" of "..., and a wedge then rises"),
    split there: the event before and the bare subject; None otherwise."""
    match = re.match(r"^(.*\S)\s*,?\s+and\s+(\S.*)$", text)
    if match is None or not _bare_subject(match.group(2)) or not _has_event(match.group(1), anywhere=True):
        return None
    return match.group(1), match.group(2)


def _bare_subject(text: str) -> bool:
    """A subject alone, or with its copula: "it" of "it then turns", "the cube is" of "the cube is then painted"."""
    tokens = tokenize(text)
    np = noun_phrase(tokens, 0)
    return np is not None and (np.end == len(tokens) or tokens[np.end:] in (["is"], ["was"], ["are"], ["were"]))


def tokenize(text: str) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    return [t for k, t in enumerate(tokens) if not (t == "," and k and tokens[k - 1] == ",")]  # ", ," left by cuts


@dataclass
class Setting:
    """What a clause says about the background and the camera (None: not said)."""

    background: str | None = None
    camera: str | None = None


def take_setting(text: str) -> tuple[str, Setting]:
    """Remove background and camera phrases from a clause; return the rest and what they said."""
    setting = Setting()

    def background(match: re.Match[str]) -> str:
        adjectives, noun = match.group(1).strip(), match.group(2)
        if not adjectives:  # "on the floor", "in the background": no background named, the words stay
            return match.group(0)
        phrase = f"{adjectives} {noun}" if noun not in ("background", "backdrop") else adjectives
        setting.background = background_value(phrase)
        return " "

    def crossed(match: re.Match[str]) -> str:
        setting.background = background_value(f"{match.group(2).strip()} {match.group(3)}")
        return match.group(1)

    def checkerboard(match: re.Match[str]) -> str:
        setting.background = "checkered"
        return " "

    def change(match: re.Match[str]) -> str:
        value = background_value(match.group(1) or match.group(2))
        old = re.match(r"\s*(?:the\s+)?(" + "|".join(sorted(BACKGROUND_WORDS)) + r")\s", match.group(0))
        if old is not None and value not in BACKGROUND_WORDS.values():
            value = BACKGROUND_WORDS[old.group(1)]  # "the grey background was quiet": grey, described
        setting.background = value
        return " "

    def camera(match: re.Match[str]) -> str:
        setting.camera = camera_value(match.group(0))
        return " "

    def static(match: re.Match[str]) -> str:
        setting.camera = "static"
        return " "

    text = _CAMERA_GOES_ON.sub(" ", text)
    text = _CAMERA_MOVE.sub(camera, text)
    text = _BARE_PAN.sub(camera, text)
    text = _CAMERA_STATIC.sub(static, text)
    text = _BACKGROUND_ORDERED.sub(change, text)
    text = _BACKGROUND_CHANGE.sub(change, text)
    text = _BACKGROUND_TO.sub(change, text)
    text = _BACKGROUND_PHRASE.sub(background, text)
    text = _CROSSED_BACKGROUND.sub(crossed, text)
    text = _BARE_BACKGROUND.sub(background, text)
    text = _LONE_FLOOR.sub(background, text)
    text = _COLOUR_ONLY_BACKGROUND.sub(change, text)
    text = _COLOUR_CHANGES.sub(change, text)
    text = _CHECKERBOARD.sub(checkerboard, text)
    text = _LISTED_BACKGROUND.sub(lambda m: change(m) + ",", text)
    return text, setting


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
                          "deep", "colored", "coloured", "painted"})


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
        adjectives = [t for t in tokens[np.end + 1:k] if t in COLORS or t in SIZES]
        after = tokens[k + 1:k + 2]
        adverb = after in (["just"], ["still"]) or (after != [] and after[0].endswith("ly"))
        verb = k + 1 + adverb  # "a triangle, kinda small, just hanging out"
        if adjectives and tokens[k:k + 1] == [","] and (verb_like(tokens, verb) or tokens[verb:verb + 1] != [] and (
                tokens[verb].endswith("ing"))):
            # "big blue", sizes first as a caption writes them
            np.modifiers = sorted(np.modifiers + adjectives, key=lambda word: word not in SIZES)
            np.end = k + 1
    if tokens[np.end] in DESCRIPTIVE_PREPOSITIONS:
        inner = noun_phrase(tokens, np.end + 1)
        if inner is not None and inner.pronoun is None and verb_like(tokens, inner.end):
            np.tail = tokens[np.end:inner.end]
            np.end = inner.end
    return np
