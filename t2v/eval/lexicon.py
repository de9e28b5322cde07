"""Word lists the rule-based question generator classifies words with.

A parser says *that* "wooden" modifies "table"; these lists say *what kind* of fact that is
(material) and how to ask about it ("made of wood"). They are general English, not tied to any
data set, and kept in one place so the parser-driven rules stay short.
"""

from __future__ import annotations

COLORS: frozenset[str] = frozenset(
    """red orange yellow green blue purple violet pink brown black white gray grey silver gold golden
    beige tan cyan magenta turquoise teal navy maroon crimson scarlet indigo lavender lilac olive lime
    amber ivory cream blond blonde blonde auburn bronze copper colorful colourful multicolored
    multicoloured rainbow monochrome ginger khaki burgundy coral peach mint aqua azure emerald ruby
    jade charcoal tangerine lemon cobalt sapphire""".split()
)
# Colour words that are also everyday nouns ("an orange", "a lemon"): entities when they have a determiner.
COLOR_NOUNS: frozenset[str] = frozenset(
    """orange gold silver lemon lime olive cream peach mint coral amber jade ruby emerald sapphire ivory
    charcoal rainbow bronze copper tan navy indigo turquoise chocolate""".split()
)
COLOR_SHADES: frozenset[str] = frozenset({"dark", "light", "pale", "bright", "deep", "pastel", "neon", "vivid"})

SIZES: frozenset[str] = frozenset(
    """big large small tiny huge giant little enormous massive gigantic miniature mini tall short long
    wide narrow thick thin fat slim skinny petite medium""".split()
)

# Adjective or noun → the material's noun, so questions read "made of wood".
MATERIALS: dict[str, str] = {
    "wooden": "wood", "wood": "wood", "metal": "metal", "metallic": "metal", "plastic": "plastic",
    "glass": "glass", "stone": "stone", "paper": "paper", "leather": "leather", "cotton": "cotton",
    "wool": "wool", "woolen": "wool", "woollen": "wool", "silk": "silk", "silken": "silk", "steel": "steel",
    "iron": "iron", "ceramic": "ceramic", "porcelain": "porcelain", "concrete": "concrete",
    "brick": "brick", "marble": "marble", "fabric": "fabric", "rubber": "rubber", "clay": "clay",
    "denim": "denim", "velvet": "velvet", "wicker": "wicker", "bamboo": "bamboo", "crystal": "crystal",
    "cardboard": "cardboard", "granite": "granite", "aluminum": "aluminum", "aluminium": "aluminum",
    "copper": "copper", "brass": "brass", "tin": "tin", "ice": "ice", "lego": "lego", "straw": "straw",
    "fur": "fur", "chocolate": "chocolate", "cloth": "cloth", "felt": "felt", "foam": "foam",
    "sand": "sand", "wax": "wax", "plaster": "plaster", "tile": "tile", "wire": "wire",
}
TEXTURES: frozenset[str] = frozenset(
    """furry fluffy fuzzy hairy smooth rough shiny glossy matte striped stripy checkered checkerboard
    chequered plaid spotted dotted polka patterned textured wrinkled bumpy scaly feathery silky soft hard
    transparent translucent reflective sparkly sparkling glittery rusty muddy dusty grainy""".split()
)
SHAPE_ADJECTIVES: frozenset[str] = frozenset(
    """round circular square rectangular triangular oval spherical cubic cylindrical conical
    hexagonal octagonal curved curvy pointed pointy flat straight spiral heart-shaped star-shaped
    diamond-shaped oblong""".split()
)
# Nouns that name a geometric shape: the noun is then also the entity's shape.
SHAPE_NOUNS: frozenset[str] = frozenset(
    """circle square triangle rectangle oval sphere ball orb disc disk dot cube box block tile wedge
    cylinder cone pyramid star heart diamond hexagon pentagon octagon ring crescent""".split()
)

NUMBERS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "dozen": 12, "single": 1,
    "both": 2, "pair": 2, "couple": 2, "twin": 2, "twins": 2,
}
NUMBER_WORDS: dict[int, str] = {v: k for k, v in NUMBERS.items() if k not in ("single", "both", "pair", "couple",
                                                                           "twin", "twins", "dozen")}
IRREGULAR_PLURALS: frozenset[str] = frozenset(
    """people men women children feet teeth geese mice sheep deer fish oxen cattle police""".split()
)

# Canonical spatial predicates; multi-word ones are matched as token sequences.
SPATIAL_PHRASES: dict[tuple[str, ...], str] = {
    ("in", "front", "of"): "in front of", ("next", "to"): "next to", ("on", "top", "of"): "on top of",
    ("to", "the", "left", "of"): "left of", ("on", "the", "left", "of"): "left of", ("left", "of"): "left of",
    ("to", "the", "right", "of"): "right of", ("on", "the", "right", "of"): "right of",
    ("right", "of"): "right of", ("in", "the", "middle", "of"): "in the middle of",
    ("in", "the", "center", "of"): "in the middle of", ("in", "the", "centre", "of"): "in the middle of",
    ("at", "the", "bottom", "of"): "at the bottom of", ("at", "the", "top", "of"): "at the top of",
    ("on", "the", "side", "of"): "beside", ("by", "the", "side", "of"): "beside",
    ("close", "to"): "near", ("near", "to"): "near", ("out", "of"): "out of", ("in", "between"): "between",
    ("on", "the", "edge", "of"): "on the edge of", ("ahead", "of"): "in front of",
    ("in", "the", "front", "of"): "in front of", ("at", "the", "back", "of"): "behind",
    ("to", "the", "side", "of"): "beside", ("underneath",): "under", ("beneath",): "under",
    ("below",): "below", ("under",): "under", ("above",): "above", ("over",): "over",
    ("on",): "on", ("onto",): "on", ("upon",): "on", ("in",): "in", ("inside",): "inside",
    ("into",): "in", ("within",): "in", ("behind",): "behind", ("beside",): "beside",
    ("besides",): "beside", ("near",): "near", ("nearby",): "near", ("by",): "by", ("at",): "at",
    ("against",): "against", ("along",): "along", ("around",): "around", ("between",): "between",
    ("among",): "among", ("amongst",): "among", ("atop",): "on top of", ("across",): "across",
    ("outside",): "outside", ("through",): "through", ("toward",): "toward", ("towards",): "toward",
    ("beyond",): "beyond", ("alongside",): "beside", ("opposite",): "opposite",
}
MAX_PHRASE = max(len(k) for k in SPATIAL_PHRASES)
# Predicates that locate rather than act: a verb plus one of these yields a spatial relation.
LOCATING: frozenset[str] = frozenset(
    {"in front of", "next to", "on top of", "left of", "right of", "in the middle of", "at the bottom of",
     "at the top of", "beside", "near", "under", "below", "above", "over", "on", "in", "inside", "behind",
     "by", "against", "along", "around", "between", "among", "on the edge of", "outside", "opposite",
     "at", "across", "beyond"}
)
# Single words that can open a spatial phrase.
LOCATING_WORDS: frozenset[str] = frozenset(k[0] for k, v in SPATIAL_PHRASES.items() if len(k) == 1 and v in LOCATING)
# Predicates that say nothing about placement when the object is the background.
BACKGROUND_TRIVIAL: frozenset[str] = frozenset({"on", "against", "over", "in front of", "on top of", "at"})

DIRECTIONS: dict[str, str] = {
    "left": "left", "leftward": "left", "leftwards": "left", "right": "right", "rightward": "right",
    "rightwards": "right", "up": "up", "upward": "up", "upwards": "up", "down": "down",
    "downward": "down", "downwards": "down", "forward": "forward", "forwards": "forward",
    "backward": "backward", "backwards": "backward", "back": "backward", "away": "away",
    "across": "across", "around": "around", "clockwise": "clockwise", "counterclockwise": "counterclockwise",
    "anticlockwise": "counterclockwise",
}
# Verbs of travel: with a direction they become the motion "move <direction>".
TRAVEL_VERBS: frozenset[str] = frozenset(
    """move go slide drift travel glide head shift roll fly run walk swim float rise sink fall drop
    climb descend ascend sail race dash zoom scroll slither crawl""".split()
)
# Words that say an object does not move ("stays still", "a stationary ball").
STILL_ADJECTIVES: frozenset[str] = frozenset({"still", "stationary", "motionless", "static", "unmoving", "immobile"})
STAY_VERBS: frozenset[str] = frozenset({"stay", "remain", "stand", "sit", "rest", "keep", "hold", "be"})
# Verbs that on their own say "not moving".
STILL_VERBS: frozenset[str] = frozenset({"rest", "pause", "freeze", "idle"})
BOUNCE_VERBS: frozenset[str] = frozenset({"bounce", "hop", "jump", "bob", "spin", "rotate", "twirl", "wobble",
                                          "swing", "shake", "vibrate", "flicker", "blink", "pulse"})
GROW_VERBS: frozenset[str] = frozenset({"grow", "expand", "enlarge", "inflate", "swell", "widen"})
SHRINK_VERBS: frozenset[str] = frozenset({"shrink", "contract", "deflate", "dwindle", "narrow"})
BIGGER: frozenset[str] = frozenset({"bigger", "larger", "taller", "wider"})
SMALLER: frozenset[str] = frozenset({"smaller", "tinier", "shorter", "narrower"})
CHANGE_VERBS: frozenset[str] = frozenset(
    {"turn", "change", "become", "go", "fade", "transform", "morph", "shift", "switch", "transition", "get"}
)
# Processes that ETVA files under physics rather than plain action.
PHYSICS_VERBS: frozenset[str] = frozenset(
    """melt freeze burn pour splash explode flow drip shatter boil evaporate dissolve collide crash
    float sink fall drop bounce erupt leak spill crack break burst ignite smoke steam condense
    reflect refract ripple splatter topple tumble""".split()
)

# Verbs a small tagger may misread as plural nouns after a noun ("the ball bounces").
COMMON_VERBS: frozenset[str] = (TRAVEL_VERBS | GROW_VERBS | SHRINK_VERBS | STAY_VERBS | STILL_VERBS | BOUNCE_VERBS
                                | PHYSICS_VERBS | CHANGE_VERBS)

# Nouns that announce the picture rather than a thing in it ("a photo of ...").
META_NOUNS: frozenset[str] = frozenset(
    """image picture photo photograph pic painting drawing illustration sketch render rendering artwork
    art style view shot footage video clip scene poster wallpaper portrait closeup close-up frame
    screenshot depiction version concept design detail quality resolution lighting background""".split()
)
# Of those, the ones that never name a thing in the scene.
META_ALWAYS: frozenset[str] = frozenset(
    """style art artwork detail details quality resolution lighting concept version design render rendering
    wallpaper footage screenshot depiction""".split()
)
# Words for an unspecified number, asked as they are ("Are there several people?").
VAGUE_AMOUNTS: frozenset[str] = frozenset({"several", "many", "few", "multiple", "numerous", "countless"})
VAGUE_AMOUNT_NOUNS: frozenset[str] = frozenset({"lot", "lots", "bunch", "plenty", "number", "dozens", "hundreds"})
# Nouns that count or group what follows "of": the entity is the noun after "of".
QUANTITY_NOUNS: frozenset[str] = frozenset(
    """piece pieces lot lots number couple pair group groups bunch flock herd crowd pile stack set
    collection row rows variety swarm school pack team kind sort type slice bit handful cluster
    series line plenty array assortment amount dozen dozens few""".split()
)
COLLECTIVE_NOUNS: frozenset[str] = frozenset(
    {"group", "bunch", "flock", "herd", "crowd", "pile", "stack", "swarm", "pack", "team", "cluster",
     "row", "line", "collection"}
)
# Nouns that are positions or directions, not things.
PLACE_WORDS: frozenset[str] = frozenset(
    """left right top bottom front back side middle center centre edge corner distance foreground
    direction way end part half area""".split()
)
# Time and weather nouns that describe the whole scene, not an object in it.
SCENE_NOUNS: frozenset[str] = frozenset(
    """day night daytime nighttime morning evening afternoon sunset sunrise dusk dawn time moment
    summer winter autumn fall spring""".split()
)
CLOTHING: frozenset[str] = frozenset(
    """shirt t-shirt jacket coat dress hat cap helmet suit uniform skirt pants trousers jeans shorts
    sweater hoodie vest scarf gloves glove shoes shoe boots boot sneakers socks tie glasses sunglasses
    costume outfit robe gown apron jersey clothes clothing mask""".split()
)
# Nouns asked about without "a": "Is there water?".
MASS_NOUNS: frozenset[str] = frozenset(
    """water sand grass snow food soup milk coffee tea juice wine beer rice bread meat cheese ice fire smoke
    fog mist rain dust mud dirt hair fur sky furniture clothing money paper wood glass metal plastic
    cotton wool silk leather steel gold silver light darkness foliage greenery traffic scenery
    lava oil paint salad cereal pasta sugar salt chocolate cream butter honey""".split()
)
BACKGROUND_NOUNS: frozenset[str] = frozenset({"background", "backdrop", "backdrops", "backgrounds"})
# Pronouns that stand for an entity mentioned earlier.
ANAPHORS: frozenset[str] = frozenset(
    {"it", "its", "he", "him", "his", "she", "her", "they", "them", "their", "itself", "themselves",
     "himself", "herself", "this", "these", "those", "one"}
)
# Pronouns that usually stand for people, and nouns for people.
PERSONAL_PRONOUNS: frozenset[str] = frozenset({"he", "him", "his", "she", "her", "hers", "they", "them", "their"})
PERSON_NOUNS: frozenset[str] = frozenset(
    """person people man woman men women boy girl child children kid baby lady guy player surfer skier
    skater rider someone somebody subject poser individual adult teenager student worker chef doctor
    nurse soldier crowd family couple father mother friend athlete dancer""".split()
)
# Pronouns that introduce a person of their own.
PERSON_PRONOUNS: frozenset[str] = frozenset({"someone", "somebody", "everyone", "everybody", "anyone"})
# Verbs too light to be an action question of their own.
LIGHT_VERBS: frozenset[str] = frozenset(
    {"be", "have", "do", "see", "show", "look", "appear", "seem", "can", "include", "contain", "depict",
     "feature", "make", "use", "let", "get", "give", "take", "place", "put", "find", "say", "write",
     "think", "know", "call", "like", "want", "try", "observe", "notice", "view", "picture", "describe",
     "will", "would", "could", "should", "may", "might", "must", "color", "colour"}
)
# Verbs that link a subject to an adjective as "is" does ("looks sad", "turns pale").
LINKING_VERBS: frozenset[str] = frozenset({"look", "seem", "appear", "feel", "remain", "stay", "sound", "smell",
                                           "taste", "become"})
# "X has a Y", "X with a Y": Y belongs to X.
POSSESSION_VERBS: frozenset[str] = frozenset({"have", "own", "possess", "contain", "feature", "include"})

# Camera movements and views, matched in the raw text: (regular expression, canonical value, kind).
CAMERA_MOVES: tuple[tuple[str, str], ...] = (
    (r"\b(?:pans?|panning|panned|sweeps?|sweeping|swept)\s+(?:to\s+(?:the\s+)?)?(left|right|up|down)(?:wards?)?\b",
     "pan {0}"),
    (r"\b(?:tilts?|tilting|tilted)\s+(up|down)(?:wards?)?\b", "tilt {0}"),
    (r"\b(?:zooms?|zooming|zoomed)\s+(in|out)\b", "zoom {0}"),
    (r"\b(?:dolly|dollies|dollying)\s+(in|out|forward|backward|left|right)\b", "dolly {0}"),
    (r"\b(?:trucks?|trucking)\s+(left|right)\b", "truck {0}"),
    (r"\b(?:orbits?|orbiting|circles?|circling|rotates?|rotating|revolves?)\s+around\b", "orbit"),
    (r"\b(?:tracks?|tracking|follows?|following)\b", "track"),
    (r"\b(?:shakes?|shaking|shaky)\b", "shake"),
    (r"\b(?:pushes?|pushing|moves?|moving)\s+in\b", "push in"),
    (r"\b(?:pulls?|pulling|moves?|moving)\s+(?:back|out|away)\b", "pull out"),
    (r"\b(?:moves?|moving|pans?|panning)\s+(?:to\s+(?:the\s+)?)?(left|right|up|down|forward|backward)(?:wards?)?\b",
     "move {0}"),
    (r"\b(?:is|stays|remains|stays\s+completely|remains\s+completely)\s+(?:still|static|fixed|stationary)\b",
     "static"),
)
CAMERA_SUBJECT = r"\b(?:the\s+|a\s+)?(?:camera|view|shot)\b"
CAMERA_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\b(?:static|fixed|still|steady|stationary|locked(?:-|\s)off)\s+(?:camera|shot)\b", "static"),
    (r"\bcamera\s+(?:is\s+)?(?:static|fixed|still|stationary)\b", "static"),
    (r"\b(?:pan(?:ning)?)\s+(left|right|up|down)\b", "pan {0}"),
    (r"\bzoom(?:s|ing|ed)?\s+(in|out)\b", "zoom {0}"),
    (r"\bpanning\s+shot\b", "pan"),
    (r"\btracking\s+shot\b", "track"),
    (r"\bhand-?held(?:\s+camera|\s+shot)?\b", "handheld"),
    (r"\bdolly\s+(?:shot|zoom)\b", "dolly"),
    (r"\btime-?lapse\b", "time-lapse"),
    (r"\bslow[-\s]motion\b", "slow motion"),
)
CAMERA_VIEWS: tuple[tuple[str, str], ...] = (
    (r"\b(?:aerial|drone|overhead|top-down|top\s+down|bird'?s[-\s]eye)\s+(?:view|shot|footage|perspective)\b",
     "aerial view"),
    (r"\b(?:from\s+above|from\s+the\s+air)\b", "aerial view"),
    (r"\bclose-?\s?up(?:\s+(?:shot|view))?\b", "close-up"),
    (r"\b(?:wide|establishing|long)\s+shot\b", "wide shot"),
    (r"\blow[-\s]angle(?:\s+(?:shot|view))?\b", "low angle"),
    (r"\bhigh[-\s]angle(?:\s+(?:shot|view))?\b", "high angle"),
    (r"\b(?:first[-\s]person|pov|point[-\s]of[-\s]view)(?:\s+(?:shot|view))?\b", "first-person view"),
    (r"\bside\s+view\b", "side view"),
    (r"\bfront\s+view\b", "front view"),
)


def attribute_category(word: str) -> str:
    """The attribute kind of an adjective or modifier noun: color, size, material, texture, shape or state."""
    w = word.lower()
    last = w.split()[-1] if w.split() else w
    if last in COLORS or w in COLORS:
        return "color"
    if w in SIZES:
        return "size"
    if w in MATERIALS:
        return "material"
    if w in TEXTURES:
        return "texture"
    if w in SHAPE_ADJECTIVES or w in SHAPE_NOUNS:
        return "shape"
    return "state"


def is_color_phrase(words: list[str]) -> bool:
    """True for "red", "dark red", "black and white" – a colour value of one or more words."""
    content = [w for w in words if w not in ("and", "or", ",")]
    return bool(content) and content[-1] in COLORS and all(w in COLORS or w in COLOR_SHADES for w in content)
