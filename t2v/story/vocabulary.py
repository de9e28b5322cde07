"""The rule-based planner's small English vocabulary: adjectives, nouns, verbs, motions, settings.

The planner needs no model, so what it understands is listed here: colour and size adjectives (to
change an entity's description when the story says "it turns blue"), shape nouns and their synonyms
(so "the circle" can refer back to "a ball"), verb forms (to find where a subject ends and to write
events as participles), and motion, background and camera phrases, each mapped to one canonical,
plain-English form that a text-to-video model knows ("rolls to the right" -> "moving right"). Words
not listed here stay verbatim in the prompts: a real model reads them. A story about shapes of the shapes world
only is the exception: its prompts keep only the words the world's parser reads (the ``WORLD_*`` tables).
"""

from __future__ import annotations

COLORS: frozenset[str] = frozenset({
    "red", "crimson", "scarlet", "ruby", "orange", "amber", "tangerine", "yellow", "golden", "gold", "lemon",
    "green", "emerald", "lime", "blue", "cobalt", "azure", "sapphire", "navy", "purple", "violet", "lilac",
    "lavender", "pink", "brown", "black", "white", "gray", "grey", "silver", "ivory", "teal", "cyan", "magenta",
    "turquoise", "beige", "maroon",
})
SIZES: frozenset[str] = frozenset({
    "small", "little", "tiny", "miniature", "lil", "wee", "big", "huge", "large", "giant", "enormous", "medium",
})
# Nouns that name the same thing in the shapes world; "the circle" may refer back to "a ball".
NOUN_CLASSES: tuple[frozenset[str], ...] = (
    frozenset({"circle", "ball", "disc", "disk", "dot", "orb", "sphere"}),
    frozenset({"square", "box", "block", "cube", "tile"}),
    frozenset({"triangle", "wedge", "pyramid"}),
)
KNOWN_NOUNS: frozenset[str] = frozenset().union(*NOUN_CLASSES)
# Heads that name no kind of thing: "the red one", "the blue shape" match by adjectives alone.
GENERIC_NOUNS: frozenset[str] = frozenset({"one", "shape", "object", "thing", "shapes", "objects", "things", "ones",
                                           "specimen", "specimens", "figure", "figures", "subject", "players",
                                           "units", "suspects"})
# Heads that "he" / "she" refer to (and "it" does not, when anything else fits).
PERSON_NOUNS: frozenset[str] = frozenset({
    "man", "woman", "boy", "girl", "child", "kid", "person", "baby", "king", "queen", "prince", "princess",
    "knight", "astronaut", "soldier", "farmer", "teacher", "doctor", "chef", "dancer", "wizard", "witch", "lady",
    "student", "player", "runner", "musician", "sailor", "pilot", "hero", "friend", "mother", "father", "grandma",
    "grandpa", "guy", "stranger", "hunter", "painter", "detective", "thief", "cowboy",
})
# Nouns of which there is only one: "the sun" stays "the sun" in a description.
UNIQUE_NOUNS: frozenset[str] = frozenset({"sun", "moon", "sky", "sea", "ocean", "earth", "world", "horizon", "wind"})
# Words after a motion verb that make it another event: "falls asleep", "jumps over a fence".
MOTION_BLOCKERS: frozenset[str] = frozenset({
    "asleep", "apart", "over", "into", "onto", "off", "out", "through", "across", "in", "on", "behind",
    "silent", "ill", "short", "flat",
})
# Post-modifiers a subject may carry into its description: "a girl in a red coat", "a man with a hat".
DESCRIPTIVE_PREPOSITIONS: frozenset[str] = frozenset({"in", "with", "wearing", "holding", "carrying"})
IRREGULAR_PLURALS: dict[str, str] = {
    "boxes": "box", "men": "man", "women": "woman", "children": "child", "people": "person", "mice": "mouse",
    "geese": "goose", "feet": "foot", "teeth": "tooth", "leaves": "leaf", "wolves": "wolf", "knives": "knife",
}

# Possessives read as determiners: "our story begins with...", "my ball".
SINGULAR_DETERMINERS: frozenset[str] = frozenset({"a", "an", "one", "another", "this", "that", "his", "her", "our",
                                                  "my", "your"})
DEFINITE_DETERMINERS: frozenset[str] = frozenset({"the", "this", "that", "these", "those"})
NUMBER_WORDS: dict[str, int] = {"two": 2, "three": 3, "four": 4, "five": 5}
# Nouns of two that count what follows them: "a pair of balls", "a couple of cubes" are two balls, two cubes.
PAIR_NOUNS: frozenset[str] = frozenset({"pair", "couple"})
DETERMINERS: frozenset[str] = (SINGULAR_DETERMINERS | DEFINITE_DETERMINERS
                               | frozenset({"two", "three", "four", "five", "some", "their"}))
SINGULAR_PRONOUNS: frozenset[str] = frozenset({"it", "he", "she", "him"})
PERSON_PRONOUNS: frozenset[str] = frozenset({"he", "she", "him"})
PLURAL_PRONOUNS: frozenset[str] = frozenset({"they", "them", "both"})

PREPOSITIONS: frozenset[str] = frozenset({
    "on", "in", "at", "to", "of", "over", "under", "above", "below", "beneath", "underneath", "with", "across",
    "into", "from", "near", "behind", "beside", "through", "toward", "towards", "around", "along", "onto", "by",
    "past", "inside", "outside", "between", "atop", "against", "up", "down", "off", "out", "for", "like",
    "until", "till", "during", "within", "throughout", "upon", "among", "amongst", "beyond", "amid", "via",
    "without",
})
# Prepositions whose noun phrase is a place or a thing used, kept as written ("across the park"); after
# others ("with a kite", "picks up a box") a noun phrase is another entity of the scene.
PLACE_PREPOSITIONS: frozenset[str] = PREPOSITIONS - {"with", "up", "down", "off", "out"}
CONJUNCTIONS: frozenset[str] = frozenset({"and", "or", "but", "while", "as", "when", "whilst", "so"})
# Spatial relations that put another entity into the scene, longest first; value is the canonical text.
RELATIONS: tuple[tuple[str, str], ...] = (
    ("on the left of", "to the left of"), ("to the left of", "to the left of"), ("left of", "to the left of"),
    ("on the right of", "to the right of"), ("to the right of", "to the right of"), ("right of", "to the right of"),
    ("on top of", "on top of"), ("in front of", "in front of"), ("next to", "next to"), ("above", "above"),
    ("below", "below"), ("beneath", "beneath"), ("underneath", "underneath"), ("under", "under"), ("over", "over"),
    ("beside", "beside"), ("behind", "behind"), ("near", "near"), ("atop", "atop"),
)
# Subjects that are the video itself: "The scene opens with a ball...", "The video shows a box..." present
# what follows them, like :data:`PRESENTATIVES`.
SCENE_NOUNS: frozenset[str] = frozenset({"scene", "video", "clip", "story", "film", "movie", "animation", "work",
                                         "piece", "painting"})
# Relative pronouns: "a triangle that rises" is a triangle rising.
RELATIVE_PRONOUNS: frozenset[str] = frozenset({"that", "which", "who"})
# Verbs that present what the story shows rather than tell of it: "Picture a red ball...", "Look at a box...".
PRESENTATIVES: frozenset[str] = frozenset({
    "picture", "imagine", "envision", "visualize", "visualise", "watch", "see", "behold", "look", "meet", "consider",
    "show", "display", "draw", "make", "let", "notice", "observe", "spot", "detect", "add", "take", "introduce",
    "present",
})
# Who watches with a presentative: "we see a ball", "you can watch it fall".
VIEWERS: frozenset[str] = frozenset({"we", "you", "i"})
# Words that open a subordinate clause before the main one: "When the bell rings, a dog barks".
SUBORDINATORS: frozenset[str] = frozenset({
    "when", "whenever", "where", "wherever", "because", "since", "if", "once", "until", "before", "after",
    "although", "though",
})
# Words that sharpen a relation and say nothing themselves: "right next to", "just above", "directly below".
INTENSIFIERS: frozenset[str] = frozenset({"right", "just", "directly", "exactly", "straight", "immediately"})
# A quantifier after its subjects names nothing new: "the box and the wedge both sit", "they all fall".
QUANTIFIERS: frozenset[str] = frozenset({"both", "all", "each"})
# Words a spoken story opens with; skipped where a clause starts ("hey, so the video starts with ...").
INTERJECTIONS: frozenset[str] = frozenset({"hey", "ok", "okay", "alright", "well", "so", "oh"})
# Words that order events but show nothing; dropped from prompts.
DISCOURSE: frozenset[str] = frozenset({
    "then", "first", "firstly", "again", "also", "too", "suddenly", "now", "once", "more",
})
# Verbs of aspect that show nothing themselves: "starts bouncing", "begins to grow" show the bouncing, the growing.
ASPECT_VERBS: frozenset[str] = frozenset({"start", "begin", "continue", "keep"})
COPULAS: frozenset[str] = frozenset({"is", "are", "was", "were", "be", "been", "being"})

# Verb forms, "base third-person participle past", and regular verbs whose forms are derived: the verbs the
# planner recognises as verbs (to end a subject, to write an event as a participle).
_IRREGULAR = """
    go goes going went,  rise rises rising rose,  fall falls falling fell,  sink sinks sinking sank
    grow grows growing grew,  shrink shrinks shrinking shrank,  slide slides sliding slid,  sit sits sitting sat
    stand stands standing stood,  run runs running ran,  swim swims swimming swam,  fly flies flying flew
    become becomes becoming became,  get gets getting got,  come comes coming came,  swell swells swelling swelled
    eat eats eating ate,  sleep sleeps sleeping slept,  lie lies lying lay,  spin spins spinning spun
    swing swings swinging swung,  ride rides riding rode,  drive drives driving drove,  hold holds holding held
    see sees seeing saw,  make makes making made,  take takes taking took,  throw throws throwing threw
    catch catches catching caught,  begin begins beginning began,  dive dives diving dove,  do does doing did
    have has having had,  shine shines shining shone,  sing sings singing sang,  write writes writing wrote
    read reads reading read,  fight fights fighting fought,  give gives giving gave,  keep keeps keeping kept
"""
IRREGULAR_VERBS: dict[str, tuple[str, str, str]] = {
    forms.split()[0]: tuple(forms.split()[1:]) for forms in _IRREGULAR.replace("\n", ",").split(",") if forms.strip()
}
REGULAR_VERBS: frozenset[str] = frozenset("""
    appear arrive ascend bark blink bob bounce burst carry change chase climb close color colour continue contract
    blush cook crawl cry dance dash deflate descend disappear drift drop dwindle dye emerge enlarge enter exit expand
    explode fade inflate puff
    charge dart decrease float flow follow freeze glide glow halt head increase pulse sprint strafe translate
    zip hide hop hover jog jump kick land laugh look march melt move nod
    leap open paddle paint pan pause play pull push race reach recolor recolour remain rest return roll rotate rush sail
    settle shake shift skip smile start stay stop stretch stroll sweep switch tilt track travel tumble turn twirl
    vanish wait walk wander watch wave zoom
""".split())


def _regular_forms(base: str) -> tuple[str, str, str]:
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        third, past = base[:-1] + "ies", base[:-1] + "ied"
    elif base.endswith(("s", "sh", "ch", "x", "z", "o")):
        third, past = base + "es", base + "ed"
    else:
        third, past = base + "s", base + ("d" if base.endswith("e") else "ed")
    return third, participle_of_base(base), past if not _doubles(base) else base + base[-1] + "ed"


def _doubles(base: str) -> bool:
    """Short consonant-vowel-consonant verbs double their last letter: hop -> hopping, stop -> stopped."""
    vowels = "aeiou"
    groups = sum(1 for i, c in enumerate(base) if c in vowels and (i == 0 or base[i - 1] not in vowels))
    return (groups == 1 and len(base) >= 3 and base[-1] not in vowels + "wxy"
            and base[-2] in vowels and base[-3] not in vowels)


def participle_of_base(base: str) -> str:
    """The -ing form of a base verb: move -> moving, hop -> hopping, lie -> lying."""
    if base in IRREGULAR_VERBS:
        return IRREGULAR_VERBS[base][1]
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")) and len(base) > 2:
        return base[:-1] + "ing"
    if _doubles(base):
        return base + base[-1] + "ing"
    return base + "ing"


def _verb_table() -> dict[str, tuple[str, str]]:
    """Every known verb form -> (base, form) with form one of base/third/participle/past."""
    table: dict[str, tuple[str, str]] = {}
    bases = dict(IRREGULAR_VERBS)
    for base in REGULAR_VERBS - set(IRREGULAR_VERBS):
        bases[base] = _regular_forms(base)
    for base, (third, part, past) in bases.items():
        for form, word in (("past", past), ("participle", part), ("third", third), ("base", base)):
            table[word] = (base, form)
    return table


VERB_FORMS: dict[str, tuple[str, str]] = _verb_table()


def base_of(word: str) -> str | None:
    """The base form of a known verb form ("hopped" -> "hop"), or None for a word not known as a verb."""
    entry = VERB_FORMS.get(word)
    return entry[0] if entry is not None else None


def looks_like_verb(word: str) -> bool:
    """Whether ``word`` ends a subject noun phrase: a known verb form or a copula (no POS tagger here)."""
    return word in VERB_FORMS or word in COPULAS


def participle(word: str) -> str:
    """A verb form as the participle a caption uses ("rolls" -> "rolling"); unknown words unchanged."""
    base = base_of(word)
    if base is not None:
        return participle_of_base(base)
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "ying"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2] + "ing"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return participle_of_base(word[:-1])
    return word


def singular(noun: str) -> str:
    """The singular of a plural noun, for matching heads ("balls" -> "ball"); other words unchanged."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("sses", "shes", "ches", "xes")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith(("ss", "us", "is")) and len(noun) > 3:
        return noun[:-1]
    return noun


def same_kind(a: str, b: str) -> bool:
    """Whether two head nouns name the same kind of thing (equal, or synonyms in :data:`NOUN_CLASSES`)."""
    a, b = singular(a), singular(b)
    return a == b or any(a in group and b in group for group in NOUN_CLASSES)


# -- motions, backgrounds and cameras, with their canonical prompt text ----------------------------

CANONICAL_MOTION: dict[str, str] = {
    "left": "moving left", "right": "moving right", "up": "moving up", "down": "moving down",
    "bounce": "bouncing", "grow": "growing", "shrink": "shrinking", "still": "staying still",
}
# Verbs that only say "moves" and take their meaning from a direction.
MOVE_VERBS: frozenset[str] = frozenset({"move", "go", "slide", "drift", "head", "travel", "roll", "glide", "shift",
                                        "come", "march", "zoom", "strafe", "sprint", "charge", "race", "dart", "zip",
                                        "translate"})
# Verbs that are a whole motion; an optional direction word after them is part of the phrase.
MOTION_VERBS: dict[str, str] = {
    "rise": "up", "climb": "up", "ascend": "up", "fall": "down", "sink": "down", "drop": "down",
    "descend": "down", "bounce": "bounce", "hop": "bounce", "jump": "bounce", "bob": "bounce", "leap": "bounce",
    "grow": "grow", "expand": "grow", "swell": "grow", "enlarge": "grow", "shrink": "shrink",
    "contract": "shrink", "dwindle": "shrink", "deflate": "shrink", "inflate": "grow", "puff": "grow", "stop": "still",
    "halt": "still", "freeze": "still", "increase": "grow", "decrease": "shrink",
}
# Places that name a direction after "to the" / "toward the": "heads toward the bottom" moves down.
DIRECTION_PLACES: dict[str, str] = {"top": "up", "bottom": "down"}
# Nouns after a direction that name the same direction: "rolls to the left side", "to the right edge".
DIRECTION_SIDES: frozenset[str] = frozenset({"side", "edge", "corner", "border"})
# What a direction's place may be "of" and still be a direction: "to the top of the screen".
FRAME_NOUNS: frozenset[str] = frozenset({"screen", "frame", "picture", "image", "scene", "view", "canvas", "video"})
DIRECTIONS: dict[str, str] = {
    "left": "left", "leftward": "left", "leftwards": "left", "right": "right", "rightward": "right",
    "rightwards": "right", "up": "up", "upward": "up", "upwards": "up", "down": "down", "downward": "down",
    "downwards": "down",
}
# Colour and size words grouped by what they name, to match "the red ball" against "a crimson ball".
COLOR_FAMILY: dict[str, str] = {
    "crimson": "red", "scarlet": "red", "ruby": "red", "amber": "orange", "tangerine": "orange",
    "golden": "yellow", "gold": "yellow", "lemon": "yellow", "emerald": "green", "lime": "green",
    "cobalt": "blue", "azure": "blue", "sapphire": "blue", "navy": "blue", "violet": "purple", "lilac": "purple",
    "lavender": "purple", "grey": "gray", "silver": "gray", "ivory": "white",
}
SIZE_FAMILY: dict[str, str] = {"little": "small", "tiny": "small", "miniature": "small", "lil": "small", "wee": "small",
                               "huge": "big",
                               "large": "big", "giant": "big", "enormous": "big"}
STILL_ADJECTIVES: frozenset[str] = frozenset({"still", "motionless", "stationary", "immobile", "put"})
# Verbs that mean "stays in place" when nothing else moves the entity ("a box sits on a white background").
STAY_VERBS: frozenset[str] = frozenset({"sit", "stand", "stay", "remain", "rest", "wait"})
# Verbs that change an entity's look: "turns blue", "becomes huge", "turns into a purple triangle".
# "is painted purple", "gets dyed blue" (the passive of a colouring verb) change it too.
CHANGE_VERBS: frozenset[str] = frozenset({"turn", "become", "change", "get", "go", "switch", "paint", "dye", "colour",
                                          "color", "recolour", "recolor", "fade", "blush"})
COMPARATIVE_MOTION: dict[str, str] = {"bigger": "grow", "larger": "grow", "smaller": "shrink"}
# Comparatives that are a direction after a motion verb: "drifts higher (and higher)", "sinks lower".
COMPARATIVE_DIRECTIONS: dict[str, str] = {"higher": "up", "lower": "down"}

BACKGROUND_WORDS: dict[str, str] = {
    "black": "black", "ebony": "black", "gray": "gray", "grey": "gray", "silver": "gray", "white": "white",
    "ivory": "white", "snowy": "white", "checkered": "checkered", "chequered": "checkered",
    "checkerboard": "checkered", "checked": "checkered",
}
BACKGROUND_NOUNS: frozenset[str] = frozenset({"background", "backdrop", "floor", "ground", "surface", "wall",
                                              "screen", "stage", "sky", "field", "canvas", "bg", "pattern", "board",
                                              "frame", "map", "pitch", "court", "arena", "void", "expanse",
                                              "wilderness", "land", "kingdom", "realm", "world"})
CAMERA_NOUNS: frozenset[str] = frozenset({"camera", "view", "shot"})
CAMERA_MOVES: dict[str, str] = {"pan": "pan", "sweep": "pan", "move": "pan", "turn": "pan", "swing": "pan",
                                "drift": "pan", "glide": "pan", "slide": "pan", "shift": "pan", "go": "pan",
                                "tilt": "tilt", "zoom": "zoom", "track": "track", "dolly": "dolly"}
STATIC_CAMERA_WORDS: frozenset[str] = frozenset({"static", "fixed", "steady", "still", "stationary", "locked"})

# -- what the shapes world reads --------------------------------------------------------------------
# A scene whose entities are all shapes of the world (:data:`KNOWN_NOUNS`) is written for the world's caption
# parser (:mod:`t2v.world.parser`), which refuses words it does not know; such a scene's events keep only these
# phrases. They mirror :mod:`t2v.world.lexicon` (the story package imports no world; a test keeps them equal).
# Multi-word phrases are written with "_" for a space.
WORLD_MOTION_PHRASES: frozenset[str] = frozenset(p.replace("_", " ") for p in """
    rise rises rising ascend ascends ascending climb climbs climbing fall falls falling sink sinks sinking
    drop drops dropping descend descends descending bounce bounces bouncing hop hops hopping jump jumps jumping
    bob bobs bobbing grow grows growing get_bigger gets_bigger getting_bigger expand expands expanding
    swell swells swelling enlarge enlarges enlarging get_larger gets_larger getting_larger shrink shrinks shrinking
    get_smaller gets_smaller getting_smaller contract contracts contracting dwindle dwindles dwindling
    rest rests resting not_moving does_not_move do_not_move still motionless stationary immobile
""".split())
# Verbs that make a motion only with a direction after them ("sliding left").
WORLD_MOVE_VERBS: frozenset[str] = frozenset("""
    move moves moving go goes going slide slides sliding drift drifts drifting head heads heading
    travel travels travelling glide glides gliding shift shifts shifting
""".split())
WORLD_DIRECTIONS: frozenset[str] = frozenset(DIRECTIONS)
# The colour and size words the world reads; other known ones ("gold", "navy", "enormous") are written as their
# family's word (:data:`COLOR_FAMILY`, :data:`SIZE_FAMILY`) in a shapes story.
WORLD_COLORS: frozenset[str] = frozenset("""
    red crimson scarlet ruby orange amber tangerine yellow golden lemon green emerald lime blue cobalt azure sapphire
    purple violet lilac lavender
""".split())
WORLD_SIZES: frozenset[str] = frozenset("small little tiny miniature big huge large giant".split())
# The relations the world has (left of, right of, above, below), in every wording it reads.
WORLD_RELATIONS: frozenset[str] = frozenset(p.replace("_", " ") for p in """
    to_the_left_of left_of on_the_left_of to_the_right_of right_of on_the_right_of above over on_top_of atop
    below under beneath underneath
""".split())
# Words the world reads as meaning nothing (articles, copulas, stay verbs...): harmless in a prompt.
WORLD_FILLERS: frozenset[str] = frozenset("""
    a an the is are on in of and while with background backdrop scene camera video clip view as to that which
    there another against toward towards at its it showing shows stays staying stay remains remaining remain
    sits sitting sit stands standing stand both
""".split())
WORLD_EVENT_PHRASES: dict[str, str] = {
    **{p: "filler" for p in WORLD_FILLERS}, **{p: "direction" for p in WORLD_DIRECTIONS},
    **{p: "move_verb" for p in WORLD_MOVE_VERBS}, **{p: "motion" for p in WORLD_MOTION_PHRASES},
    **{p: "relation" for p in WORLD_RELATIONS},
}
_WORLD_PHRASE_WORDS = max(len(p.split()) for p in WORLD_EVENT_PHRASES)


def world_phrase_at(words: list[str], k: int) -> tuple[str, int] | None:
    """The longest phrase of :data:`WORLD_EVENT_PHRASES` at ``words[k:]``, as (category, words used), or None."""
    for length in range(min(_WORLD_PHRASE_WORDS, len(words) - k), 0, -1):
        category = WORLD_EVENT_PHRASES.get(" ".join(words[k:k + length]))
        if category is not None:
            return category, length
    return None


def world_noun(noun: str) -> bool:
    """Whether a head noun names a shape of the shapes world ("ball", "cubes")."""
    return singular(noun) in KNOWN_NOUNS
