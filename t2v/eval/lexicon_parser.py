"""A model-free parser: word lists and suffixes tag the words, and a few attachment heuristics build a
dependency tree in spaCy's labels, so the same scene-graph rules can run without spaCy.

It exists so the rule-based question generator still works when the ``[nlp]`` extra is missing,
and as the hand-written baseline the spaCy parse was weighed against on DSG-1k (the spaCy parse wins
clearly: an unknown word's part of speech and a long sentence's attachments are exactly what word
lists and nearest-neighbour heuristics get wrong). Good enough for short, plain prompts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from . import lexicon as lx
from .parsing import Parse, Tok

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*|'s|[^\w\s]")
DETERMINERS = frozenset({"a", "an", "the", "this", "that", "these", "those", "each", "every", "some", "any",
                         "no", "another", "all", "both", "either", "neither", "several", "many", "few"})
PRONOUNS = frozenset({"he", "she", "it", "they", "we", "i", "you", "him", "her", "them", "us", "me",
                      "someone", "somebody", "something", "everyone", "everybody", "anyone", "nobody",
                      "itself", "himself", "herself", "themselves"})
POSSESSIVES = frozenset({"his", "its", "their", "my", "your", "our"})
PREPOSITIONS = frozenset(
    """in on at under above below over behind beside besides near with of from to into onto through across
    along around between among amongst against toward towards by for during without within inside outside
    beneath underneath upon off like than about after before atop beyond alongside opposite via past""".split()
)
CONJUNCTIONS = frozenset({"and", "or", "but", "nor"})
SUBORDINATORS = frozenset({"while", "as", "because", "when", "if", "although", "though", "whereas", "where",
                           "that", "which", "who", "whom", "whose"})
AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "do",
                         "does", "did", "can", "could", "will", "would", "should", "may", "might", "must", "'s"})
COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "being", "am"})
ADVERBS = frozenset(
    """very too also then now here there just still almost quite really slightly rather so even only
    again together apart away back forward forwards backward backwards up down out around straight
    upward upwards downward downwards leftward leftwards rightward rightwards clockwise""".split()
)
ACTION_VERBS = frozenset(
    """ride hold wear eat drink play read sit stand walk run carry throw catch look watch fly swim jump
    sleep lie lay lean kick cut cook write paint draw talk smile laugh cry dance sing drive push pull pick
    open close climb surf ski skate sail chase bite lick hug kiss touch point reach raise lift bend
    cross stretch kneel crouch squat wave hit swing pour fill wash brush comb feed pet graze fight build
    make use hang cover face turn grow rest hop bounce spin rotate roll slide glide drift travel head
    move go come leave enter exit follow lead carry pose balance smoke burn melt fall rise sink float
    shine glow sparkle explode crash splash drip flow perch land park stop wait play""".split()
)
_IRREGULAR_PAST = {"sat": "sit", "stood": "stand", "ran": "run", "held": "hold", "wore": "wear", "ate": "eat",
                   "flew": "fly", "lay": "lie", "bent": "bend", "made": "make", "hung": "hang", "rode": "ride",
                   "drove": "drive", "fell": "fall", "rose": "rise", "sank": "sink", "grew": "grow",
                   "caught": "catch", "threw": "throw", "went": "go", "came": "come", "built": "build",
                   "worn": "wear", "held up": "hold"}
_IRREGULAR_NOUN_PLURALS = {"people": "person", "men": "man", "women": "woman", "children": "child",
                           "feet": "foot", "teeth": "tooth", "geese": "goose", "mice": "mouse"}
_ADJ_SUFFIXES = ("ful", "ous", "ive", "able", "ible", "ical", "ish", "less", "ular", "ary", "ese", "ian", "ic")


def _verb_stem(word: str, verbs: frozenset[str]) -> str | None:
    """The base form of ``word`` if it is an inflection of one of ``verbs``."""
    if word in verbs:
        return word
    if word in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[word]
    candidates: list[str] = []
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)]
            candidates += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                candidates.append(stem[:-1])
            if stem.endswith("i"):
                candidates.append(stem[:-1] + "y")
    return next((c for c in candidates if c in verbs), None)


def _noun_lemma(word: str) -> tuple[str, bool]:
    """(singular, is plural) by suffix rules."""
    if word in _IRREGULAR_NOUN_PLURALS:
        return _IRREGULAR_NOUN_PLURALS[word], True
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y", True
    if len(word) > 3 and word.endswith(("ches", "shes", "xes", "sses", "oes")):
        return word[:-2], True
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1], True
    return word, False


class LexiconParser:
    """Tags by word lists and suffixes, attaches by proximity; no model, no download."""

    name = "lexicon"

    def __init__(self) -> None:
        self.verbs = lx.COMMON_VERBS | ACTION_VERBS | lx.LIGHT_VERBS | lx.POSSESSION_VERBS

    def parse(self, texts: Sequence[str]) -> list[Parse]:
        """Parse each text on its own."""
        return [self._parse_one(t) for t in texts]

    # -- tagging -------------------------------------------------------------------------------
    def _tag(self, words: list[str]) -> list[Tok]:
        """Part-of-speech tags and lemmas from word lists and suffixes."""
        toks: list[Tok] = []
        for i, text in enumerate(words):
            w = text.lower()
            prev = toks[-1] if toks else None
            pos, tag, lemma = "NOUN", "NN", w
            if not re.match(r"\w", w) and w != "'s":
                pos, tag = "PUNCT", "."
            elif w == "'s":
                pos, tag = ("PART", "POS") if prev is not None and prev.pos in ("NOUN", "PROPN") else ("AUX", "VBZ")
                lemma = "'s" if pos == "PART" else "be"
            elif w in DETERMINERS:
                pos, tag = "DET", "DT"
            elif w in POSSESSIVES:
                pos, tag = "PRON", "PRP$"
            elif w in PRONOUNS:
                pos, tag = "PRON", "PRP"
            elif w in lx.NUMBERS or w.isdigit():
                pos, tag = "NUM", "CD"
            elif w in AUXILIARIES:
                pos, tag, lemma = "AUX", "VBZ", ("be" if w in COPULAS else w)
            elif w in ("not", "n't"):
                pos, tag = "PART", "RB"
            elif w in CONJUNCTIONS:
                pos, tag = "CCONJ", "CC"
            elif w in SUBORDINATORS:
                pos, tag = "SCONJ", "IN"
            elif w in PREPOSITIONS:
                pos, tag = "ADP", "IN"
            elif w in lx.COLORS or w in lx.SIZES or w in lx.TEXTURES or w in lx.SHAPE_ADJECTIVES \
                    or w in lx.STILL_ADJECTIVES or w in lx.BIGGER or w in lx.SMALLER or w in lx.COLOR_SHADES \
                    or (w in lx.MATERIALS and w.endswith(("en", "ic", "al"))) or w in ("left", "right"):
                pos, tag = "ADJ", "JJ"
            elif w in ADVERBS or (w.endswith("ly") and len(w) > 4):
                pos, tag = "ADV", "RB"
            elif _verb_stem(w, self.verbs) is not None and not (
                    prev is not None and prev.pos in ("DET", "ADJ", "NUM") and w == _verb_stem(w, self.verbs)):
                lemma = _verb_stem(w, self.verbs) or w
                pos = "VERB"
                tag = "VBG" if w.endswith("ing") else "VBN" if w.endswith("ed") or w in _IRREGULAR_PAST \
                    else "VBZ" if w.endswith("s") else "VBP"
                if tag == "VBZ" and prev is not None and prev.pos in ("DET", "ADJ", "NUM"):
                    pos, tag, lemma = "NOUN", "NNS", _noun_lemma(w)[0]
            elif w.endswith(_ADJ_SUFFIXES) and len(w) > 5 and w not in lx.SHAPE_NOUNS:
                pos, tag = "ADJ", "JJ"
            elif w.endswith("ed") and len(w) > 4:
                pos, tag = "ADJ", "VBN"
            elif w.endswith("ing") and len(w) > 5 and prev is not None and prev.pos in ("NOUN", "PROPN"):
                pos, tag = "VERB", "VBG"
            else:
                lemma, plural = _noun_lemma(w)
                tag = "NNS" if plural else "NN"
                if text[:1].isupper() and i > 0 and words[i - 1] not in (".", "!", "?"):
                    pos, tag, lemma = "PROPN", "NNP", w
            toks.append(Tok(i=i, text=text, lemma=lemma, pos=pos, tag=tag, dep="", head=i))
        return toks

    # -- attaching ---------------------------------------------------------------------------
    def _parse_one(self, text: str) -> Parse:
        """One text: tags, noun phrases, then clause attachments by proximity."""
        words = _TOKEN.findall(text)
        toks = self._tag(words)
        n = len(toks)
        heads = self._noun_phrases(toks)
        root: int | None = None
        last_head: int | None = None  # the latest phrase head: noun or verb
        last_verb: int | None = None
        for t in toks:
            if t.dep:
                continue
            i = t.i
            if t.pos == "PUNCT":
                t.dep, t.head = "punct", root if root is not None else i
                if t.text in (".", "!", "?", ";"):
                    root, last_head, last_verb = None, None, None
                continue
            if t.pos in ("VERB", "AUX"):
                aux_next = t.pos == "AUX" and i + 1 < n and toks[i + 1].pos in ("VERB",) and \
                    toks[i + 1].tag in ("VBG", "VBN")
                if aux_next:
                    t.dep, t.head = "aux", i + 1
                    continue
                subject = self._subject_before(toks, i, heads)
                if subject is not None and toks[subject].dep in ("", "ROOT"):
                    toks[subject].dep, toks[subject].head = "nsubj", i
                    if subject == root:  # "a dog runs": the verb, not the noun, roots the clause
                        root = None
                if root is None:
                    t.dep, t.head, root = "ROOT", i, i
                elif subject is None and t.tag in ("VBG", "VBN") and last_head is not None \
                        and toks[last_head].pos in ("NOUN", "PROPN"):
                    t.dep, t.head = "acl", last_head
                else:
                    t.dep, t.head = ("conj" if subject is None else "ccomp"), root
                last_verb, last_head = i, i
                continue
            if t.pos == "ADP":
                attach = last_head if last_head is not None else (root if root is not None else i)
                t.dep, t.head = "prep", attach
                obj = self._next_head(toks, i, heads)
                if obj is not None:
                    toks[obj].dep, toks[obj].head = "pobj", i
                continue
            if i in heads.values() or t.pos in ("NOUN", "PROPN", "PRON"):
                if t.text.lower() == "there" and i + 1 < n and toks[i + 1].lemma == "be":
                    t.pos, t.dep, t.head = "PRON", "expl", i + 1
                    continue
                if last_verb is not None and toks[last_verb].lemma == "be" and last_head == last_verb:
                    t.dep, t.head = "attr", last_verb
                elif last_verb is not None and last_head == last_verb:
                    t.dep, t.head = "dobj", last_verb
                elif last_head is not None and i > 0 and toks[i - 1].pos == "CCONJ":
                    t.dep, t.head = "conj", last_head
                    toks[i - 1].dep, toks[i - 1].head = "cc", last_head
                elif root is None:
                    t.dep, t.head, root = "ROOT", i, i
                else:
                    t.dep, t.head = "dep", root
                last_head = i
                continue
            if t.pos == "ADJ":
                if last_verb is not None and last_head == last_verb:
                    t.dep, t.head = "acomp", last_verb
                elif last_head is not None:
                    t.dep, t.head = ("conj" if i > 0 and toks[i - 1].pos == "CCONJ" else "amod"), last_head
                else:
                    t.dep, t.head = "amod", root if root is not None else i
                continue
            if t.pos in ("ADV", "PART"):
                target = last_verb if last_verb is not None else (last_head if last_head is not None else i)
                t.dep, t.head = ("neg" if t.lower in ("not", "n't") else "advmod"), target
                continue
            t.dep, t.head = ("cc" if t.pos == "CCONJ" else "mark"), (last_head if last_head is not None else i)
        for t in toks:
            if not t.dep:
                t.dep = "ROOT"
        return Parse(text=text, tokens=_break_cycles(toks))

    @staticmethod
    def _noun_phrases(toks: list[Tok]) -> dict[int, int]:
        """Label the modifiers inside each noun phrase; returns first token → head noun."""
        heads: dict[int, int] = {}
        i = 0
        n = len(toks)
        while i < n:
            j = i
            while j < n and (toks[j].pos in ("DET", "NUM", "ADJ", "NOUN", "PROPN") or toks[j].tag == "PRP$"
                             or (toks[j].pos == "ADV" and j + 1 < n and toks[j + 1].pos == "ADJ")
                             or (toks[j].tag == "POS")):
                j += 1
            last_noun = max((k for k in range(i, j) if toks[k].pos in ("NOUN", "PROPN")), default=None)
            if last_noun is None:
                i = max(j, i + 1)
                continue
            head = last_noun
            heads[i] = head
            for k in range(i, head):
                t = toks[k]
                if t.tag == "POS":
                    t.dep, t.head = "case", k - 1
                    continue
                if t.pos in ("NOUN", "PROPN") and k + 1 < n and toks[k + 1].tag == "POS":
                    t.dep, t.head = "poss", head
                    continue
                t.head = head
                t.dep = {"DET": "det", "NUM": "nummod", "ADJ": "amod", "ADV": "advmod",
                         "PRON": "poss"}.get(t.pos, "compound")
                if t.pos == "ADV":
                    t.head = k + 1
            i = head + 1
        return heads

    @staticmethod
    def _subject_before(toks: list[Tok], i: int, heads: dict[int, int]) -> int | None:
        """The noun right before a verb (auxiliaries, adverbs and relative pronouns skipped)."""
        j = i - 1
        while j >= 0 and (toks[j].pos in ("AUX", "ADV", "PART") or toks[j].lower in ("that", "which", "who")):
            j -= 1
        if j >= 0 and (toks[j].pos in ("NOUN", "PROPN", "PRON")) and toks[j].dep in ("", "ROOT"):
            return j
        return None

    @staticmethod
    def _next_head(toks: list[Tok], i: int, heads: dict[int, int]) -> int | None:
        """The head noun of the phrase right after a preposition."""
        if i + 1 in heads:
            return heads[i + 1]
        if i + 1 < len(toks) and toks[i + 1].pos in ("NOUN", "PROPN", "PRON"):
            return i + 1
        return None


def _break_cycles(toks: list[Tok]) -> list[Tok]:
    """Make any token whose head chain loops a root of its own, so the tree is a tree."""
    for t in toks:
        seen, j = set(), t.i
        while toks[j].head != j and j not in seen:
            seen.add(j)
            j = toks[j].head
        if j in seen:  # a loop through j
            toks[j].head, toks[j].dep = j, "ROOT"
    return toks
