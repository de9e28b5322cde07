"""The background and the camera a clause names, taken out of it.

Two readings. Any story: a background after a preposition of place ("on a white background", "across a gray
floor"), a background or backdrop named as a thing, a floor alone, a background that changes, and the camera's
pans and stillness. A story about the shapes world (``world=True``) reads more, since its only places are its
backgrounds: screens, stages, skies, fields, canvases and patterns; a colour alone ("on white"); a background
listed without an article ("white backdrop, a red ball ..."); a checkerboard; a background ordered, crossed or
"taken to" a colour. In a story about anything else those words name places and things ("a fox runs across the
snowy field"), so they stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .phrasing import background_value, camera_value
from .vocabulary import BACKGROUND_WORDS, KNOWN_NOUNS, looks_like_verb

__all__ = ["Setting", "take_setting"]

_COLOURS = "|".join(sorted(BACKGROUND_WORDS))
_NOUNS = r"background|backdrop|floor|ground|surface|wall"
_WORLD_NOUNS = (_NOUNS + r"|screen|stage|sky|field|canvas|bg|pattern|board|frame|map|pitch|court|arena|void|expanse|"
                r"wilderness|land|kingdom|realm|world")
# The old background may be named before it changes: "the white background turns black".
_OLD_BACKGROUND = r"(?:(?:" + _COLOURS + r")\s+)?"


@dataclass
class Setting:
    """What a clause says about the background and the camera (None: not said)."""

    background: str | None = None
    camera: str | None = None


@dataclass(frozen=True)
class _Backgrounds:
    """The background patterns of one reading (any story, or a shapes story)."""

    phrase: re.Pattern[str]
    bare: re.Pattern[str]
    lone: re.Pattern[str]
    change: re.Pattern[str]


def _backgrounds(nouns: str, world: bool) -> _Backgrounds:
    noun = r"(?:" + nouns + r")"
    article = r"(?:(?:a|an|the|its|their)\s+)?" if world else r"(?:a|an|the)\s+"
    changing = r"background|backdrop|floor" + (r"|" + _WORLD_NOUNS + r"|world(?:\s+around\s+(?:it|them))?"
                                               if world else "")
    starting = r"starts\s+out|starts\s+as|starts|begins\s+as|begins|darkens|brightens|" if world else ""
    presented = r"|(?:picture|imagine|see|show|we\s+see)\s+" if world else ""
    return _Backgrounds(
        # after any preposition of place: "on a white background", "across a gray floor"
        phrase=re.compile(r"\b(?:on|onto|upon|against|over|across|along|through|around|in|at|of|with|"
                          r"in\s+front\s+of)\s+" + article + r"((?:[a-z-]+\s+){0,2}?)(" + noun + r")\b"),
        # named as a thing, with an adjective: "There's a white background with a red wedge"
        bare=re.compile(r"\b(?:(?:there|here)\s+is\s+|we\s+see\s+)?(?:a|an|the)\s+((?:[a-z-]+\s+){1,2}?)"
                        r"(background|backdrop" + (r"|screen|void" if world else "") + r")\b"
                        + (r"(?:\s+(?:with|where)\b)?" if world else r"(?:\s+with\b)?")),
        # a floor (or a screen...) on its own is a setting only as the whole clause: "A checkered floor."
        lone=re.compile(r"^\s*(?:(?:there|here)\s+is\s+" + presented + r")?(?:a|an|the)\s+((?:[a-z-]+\s+){1,2}?)("
                        + nouns + r")\s*$"),
        change=re.compile(
            r"\b(?:the\s+)?" + (r"(?:whole\s+|entire\s+)?" if world else "") + _OLD_BACKGROUND + r"(?:" + changing
            + r")\s+"
            r"(?:" + starting + r"turns|turned|turn|becomes|became|become|changes|changed|change|goes|went|go|switch|"
            # the passive before the bare copula: "is changed to checkered" names checkered, not "changed"
            r"switches|switched|fades|faded|(?:is|was|gets|got|has\s+been|had\s+been)\s+(?:now\s+)?(?:changed|turned|"
            r"switched|set|made|painted|coloured|colored)|is|was" + (r"|be" if world else "") + r")(?:\s+now)?"
            r"(?:\s+from\s+(?:a\s+|an\s+)?[a-z-]+)?"
            r"(?:\s+(?:to|into))?\s+(?:a\s+|an\s+)?(?:all\s+|completely\s+|totally\s+|fully\s+)?([a-z-]+)"
            r"(?:\s+(?:one|colou?r|" + nouns + r"))?\b|"
            # "the scene switches to a checkered floor": a change of scene to a background phrase
            r"\b(?:the\s+)?(?:scene|setting)\s+(?:turns|turned|changes|changed|switches|switched|shifts|shifted|cuts|"
            r"cut|moves|moved)\s+(?:to|into)\s+(?:a\s+|an\s+|the\s+)?([a-z-]+)\s+(?:" + nouns + r")\b"))


# Words after "the background goes ..." that are the shape's motion, not a background.
# The colour a change names first, the old one: "the grey background was quiet".
_OLD_COLOUR = re.compile(r"\s*(?:the\s+)?(" + _COLOURS + r")\s")
_NOT_BACKGROUNDS = frozenset({"up", "down", "left", "right", "away", "on", "off", "by", "past"})
_ANY_STORY = _backgrounds(_NOUNS, world=False)
_SHAPES_STORY = _backgrounds(_WORLD_NOUNS, world=True)

# -- a shapes story's backgrounds only ------------------------------------------------------------------------
# Ordered: "Make the background white.", "set the backdrop to grey".
_ORDERED = re.compile(r"\b(?:make|set|paint|turn|change|switch|swap)\s+the\s+(?:background|backdrop|screen|bg)\s+"
                      r"(?:to\s+)?("
                      + _COLOURS + r")\b")
# Any verb that takes the background "to" a colour: "the backdrop flips to white", "shifts into grey".
_TAKEN_TO = re.compile(
    r"\b(?:the\s+)?" + _OLD_BACKGROUND + r"(?:background|backdrop|floor|screen)\s+(?:[a-z]+\s+){1,2}?(?:to|into)\s+"
    r"(?:a\s+|an\s+)?(" + _COLOURS + r")(?:\s+(?:one|colou?r|" + _WORLD_NOUNS + r"))?\b")
# Crossed: "a triangle crosses the white screen" (the verb stays, the background goes).
_CROSSED = re.compile(
    r"\b(cross(?:es|ed|ing)?|travers(?:es|ed|ing|e)|shar(?:es|ed|ing|e)|fill(?:s|ed|ing)?|down|up)\s+(?:a|an|the)\s+"
    r"((?:[a-z-]+\s+){1,2}?)(" + _WORLD_NOUNS + r")\b")
# A colour alone after "on" / "against" / "over": "two circles sit side by side on white".
_COLOUR_ONLY = re.compile(r"\b(?:on|against|over|across|through)\s+(?:the\s+)?(" + _COLOURS + r")\b(?!\s+(?:"
                          + _WORLD_NOUNS + r"|"
                          + "|".join(sorted(KNOWN_NOUNS)) + r")s?\b)")
# A new shot: "Cut to black.", "cut in on white:", "hard cut to gray" (a shape after "cut to" is read as the clause).
_CUT_TO = re.compile(r"^\s*(?:hard\s+)?cut\s+(?:back\s+|in\s+)?(?:to|on)\s+(" + _COLOURS + r")\b")
# A screen that "has" its shapes: "the grey screen has this big red triangle".
_HOLDING = re.compile(r"\b(?:the|a)\s+(" + _COLOURS + r")\s+(?:screen|background|backdrop)\s+(?:has|shows|holds)\b")
# A background colour that changes, named by its colour alone: "then black changes to white".
_COLOUR_CHANGES = re.compile(
    r"^\s*(?:(?:as|while|when)\s+)?(?:the\s+)?(?:" + _COLOURS + r")\s+(?:turns|changes|becomes|switches|goes|fades|"
    r"gives\s+way)\s+(?:to\s+|into\s+)?(" + _COLOURS + r")\b,?")
# Listed without an article: "Scarlet circle, white backdrop: ...".
_LISTED = re.compile(r"(?:^|(?<=,))\s*(" + _COLOURS + r")\s+(" + _WORLD_NOUNS + r")\b\s*(?=,|$)")
# A checkerboard as the thing under the shapes: "glides left on a checkerboard".
_CHECKERBOARD = re.compile(r"\b(?:on|onto|over|across|against)\s+(?:a\s+|the\s+)?(checkerboard|chessboard)\b")

# -- the camera, in any story ---------------------------------------------------------------------------------
# A camera that goes on as it was: "..., the camera still panning along" (no change of setting).
_CAMERA_GOES_ON = re.compile(r",?\s*\b(?:(?:with|while|as|and)\s+)?the\s+camera\s+(?:still|keeps|continues|continuing)"
                             r"\s+(?:panning|to\s+pan|moving)(?:\s+along|\s+(?:to\s+the\s+)?(?:left|right))?\b")
_CAMERA_MOVE = re.compile(
    r"\b(?:(?:as|while|and|with|when)\s+)?(?:the\s+)?(?:camera|view)\s+(?:[a-z']+,?\s+){0,3}?"
    r"((?:pan|sweep|mov|turn|swing|tilt|zoom|track|drift|glid|slid|shift|go|went)[a-z]*)\s+(?:[a-z]+ly\s+)?"
    r"(?:back\s+|off\s+)?"
    r"(?:to\s+the\s+)?(left|right|up|down|in|out|leftwards?|rightwards?|upwards?|downwards?)\b")
# The camera ordered about: "pan the camera left", "swing the camera to the right".
_CAMERA_ORDERED = re.compile(r"\b(?:pans?|swings?|sweeps?|moves?)\s+the\s+camera\s+(?:to\s+the\s+)?(left|right)\b")
# A pan whose subject was the camera of the clause before: "The camera pans right, then pans left."
_BARE_PAN = re.compile(r"^\s*(?:and\s+)?(?:then\s+)?(?:it\s+)?((?:pan|sweep)(?:s|ned|ning|ed|ing)?|swept)\s+"
                       r"(?:[a-z]+ly\s+)?(?:back\s+)?(?:to\s+the\s+)?(left|right)\b")
_CAMERA_STATIC = re.compile(
    r"\b(?:(?:as|while|and|with|from|using|through)\s+)?(?:(?:a|an|the)\s+)?"
    r"(?:static|fixed|steady|still|stationary|locked)\s+camera\b|"
    r"\bunder\s+(?:a|the)\s+(?:static|fixed|steady|still|stationary|locked)\s+camera\b|"
    r"\b(?:(?:the\s+)?camera\s+locked|stop\s+the\s+camera|hold\s+the\s+camera\s+(?:steady|still)|"
    r"the\s+camera\s+comes\s+to\s+(?:a\s+)?(?:rest|stop|halt)(?:\s*,\s*static)?)\b|"
    r"\b(?:(?:the\s+camera\s+)?(?:settles|holds|cuts)\s+(?:into|on|to)\s+)?(?:a\s+)?(?:static|still|fixed|locked)\s+"
    r"(?:shot|frame)\b|"
    r"\b(?:(?:as|while|and|with)\s+)?the\s+camera\s+(?:is|stays|remains|holds|held|was|stayed|remained|keeps|kept|goes|"
    r"went|becomes|turns)\s+(?:held\s+|kept\s+)?"
    r"(?:static|still|fixed|steady|stationary)\b|"
    r"\b(?:(?:as|while|and)\s+)?the\s+camera\s+(?:does\s+not|doesn't|did\s+not|didn't)\s+move\b|"
    r"\bwith\s+the\s+camera\s+(?:now\s+)?(?:static|still|fixed|steady|stationary|locked|holding\s+(?:still|steady))\b|"
    # an absolute phrase: "..., the camera not moving", "camera not moving"
    r"(?:,\s*)?\b(?:(?:with|and)\s+)?(?:the\s+)?camera\s+(?:(?:is\s+)?not\s+moving(?:\s+at\s+all)?|unmoving|motionless|"
    r"holding\s+(?:still|steady))\b|"
    # a camera that stops (panning) holds still from then on; "... and stays fixed" says it twice
    r"\b(?:(?:as|while|and)\s+)?the\s+camera\s+(?:stops|stopped|halts|halted|freezes|froze)"
    r"(?:\s+(?:moving|panning|sweeping))?"
    r"(?:\s+and\s+(?:stays|remains|holds|keeps|is)\s+(?:static|still|fixed|steady|stationary))?\b")


def take_setting(text: str, world: bool = False) -> tuple[str, Setting]:
    """Remove background and camera phrases from a clause; return the rest and what they said. ``world``: the
    story is about the shapes world, whose only places are its backgrounds."""
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
        said = match.group(1) or match.group(2) or ""
        if said in _NOT_BACKGROUNDS or looks_like_verb(said):
            return match.group(0)  # "a ball on a black background goes down / is bouncing": the ball's event
        value = background_value(said)
        old = _OLD_COLOUR.match(match.group(0))
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

    patterns = _SHAPES_STORY if world else _ANY_STORY
    text = _CAMERA_GOES_ON.sub(" ", text)
    text = _CAMERA_MOVE.sub(camera, text)
    text = _CAMERA_ORDERED.sub(camera, text)
    text = _BARE_PAN.sub(camera, text)
    text = _CAMERA_STATIC.sub(static, text)
    if world:
        text = _CUT_TO.sub(change, text)
        text = _HOLDING.sub(change, text)
        text = _ORDERED.sub(change, text)
    text = patterns.change.sub(change, text)
    if world:
        text = _TAKEN_TO.sub(change, text)
    text = patterns.phrase.sub(background, text)
    if world:
        text = _CROSSED.sub(crossed, text)
    text = patterns.bare.sub(background, text)
    text = patterns.lone.sub(background, text)
    if world:
        text = _COLOUR_ONLY.sub(change, text)
        text = _COLOUR_CHANGES.sub(change, text)
        text = _CHECKERBOARD.sub(checkerboard, text)
        text = _LISTED.sub(lambda m: change(m) + ",", text)
    return text, setting
