"""Repairs of a small statistical parser's commonest slips on short, telegraphic prompts.

spaCy's small English model was trained on newswire and web text; prompts such as "a small box
shrinks", "two discs slide leftward" or "left knee bent" are far from it, and it reads verbs as
nouns, nouns as verbs and hangs noun phrases off the wrong word. Each repair below is a general
rule backed by the word lists (known verbs, shape nouns, directions), applied to the converted
:class:`~t2v.eval.parsing.Parse` before the scene-graph rules read it.
"""

from __future__ import annotations

from .parsing import Parse, Tok


def repair_verbs(parse: Parse) -> Parse:
    """Undo a small tagger's commonest slips on short, telegraphic prompts, with the word lists' help.

    - a shape word heading its phrase is a noun ("a small orange *square* bouncing", tagged ADV);
    - a known verb right after a noun is a verb ("a red disc *hopping*", "two discs *slide*"), not a
      noun that takes the noun before it as a compound;
    - a verb hung off a direction word ("*going* rightwards") takes the direction's place;
    - a noun swallowed as the modifier of the verb after it becomes that verb's subject, or, where the
      verb sat in a noun's slot ("below a square moving left"), the noun takes the slot and the verb
      becomes its clause.
    """
    from .lexicon import COMMON_VERBS, DIRECTIONS, PLACE_WORDS, SHAPE_NOUNS, STILL_ADJECTIVES

    toks = parse.tokens
    changed = False
    for tok in toks:  # "motionless" is never a noun
        if tok.lower in STILL_ADJECTIVES and tok.pos in ("NOUN", "PROPN"):
            tok.pos, tok.tag = "ADJ", "JJ"
            changed = True
    for tok in toks:  # shape words heading a phrase
        stem = tok.lower[:-1] if tok.lower.endswith("s") and tok.lower[:-1] in SHAPE_NOUNS else tok.lower
        stem = tok.lower[:-2] if tok.lower.endswith("es") and tok.lower[:-2] in SHAPE_NOUNS else stem
        if stem not in SHAPE_NOUNS or tok.pos == "NOUN":
            continue
        nxt = toks[tok.i + 1] if tok.i + 1 < len(toks) else None
        before = toks[tok.i - 1] if tok.i else None
        if nxt is not None and nxt.pos in ("NOUN", "PROPN") and verb_lemma(nxt, COMMON_VERBS) is None \
                and nxt.lower not in PLACE_WORDS:
            continue  # "a square table": an adjective
        if before is not None and before.pos in ("DET", "NUM", "ADJ", "NOUN", "PROPN"):
            tok.pos, tok.tag, tok.lemma = "NOUN", ("NNS" if stem != tok.lower else "NN"), stem
            changed = True
    for tok in toks:  # "knees bent" with *knees* a verb that is the subject: a subject is a noun
        if tok.pos == "VERB" and tok.dep in ("nsubj", "nsubjpass") and not tok.lower.endswith("ing"):
            tok.pos = "NOUN"
            tok.tag = "NNS" if tok.lower.endswith("s") and not tok.lower.endswith("ss") else "NN"
            tok.lemma = tok.lower[:-1] if tok.tag == "NNS" else tok.lower
            changed = True
    for tok in toks:  # "left arm" read as the verb "leave" with an object
        nxt = toks[tok.i + 1] if tok.i + 1 < len(toks) else None
        if tok.lower == "left" and tok.pos == "VERB" and nxt is not None and nxt.pos in ("NOUN", "PROPN") \
                and nxt.head != tok.i and not any(c.head == tok.i and c.dep == "nsubj" for c in toks):
            # "left knee bent right leg": no subject, so no verb; its dependents go to its own head
            up = tok.head if tok.head != tok.i else nxt.i
            for c in toks:
                if c.head == tok.i and c.i != tok.i:
                    c.head = up if up != c.i else c.i
            tok.pos, tok.tag, tok.lemma, tok.dep, tok.head = "ADJ", "JJ", "left", "amod", nxt.i
            changed = True
            continue
        if tok.lower == "left" and tok.pos == "VERB" and nxt is not None and nxt.pos in ("NOUN", "PROPN") \
                and nxt.head == tok.i:
            nxt.head, nxt.dep = (nxt.i if tok.head == tok.i else tok.head), tok.dep
            for c in toks:
                if c.head == tok.i and c.i != tok.i:
                    c.head = nxt.i
            tok.pos, tok.tag, tok.lemma, tok.dep, tok.head = "ADJ", "JJ", "left", "amod", nxt.i
            changed = True
    for tok in toks:  # "a circle expands" read as an auxiliary
        lemma = verb_lemma(tok, COMMON_VERBS) if tok.pos == "AUX" else None
        if lemma is not None and lemma not in ("be", "have", "do", "get", "keep"):
            tok.pos, tok.dep, tok.lemma = "VERB", "dep", lemma
            changed = True
    for tok in toks:  # "gliding rightwards" read as a compound noun
        if tok.pos != "VERB" and tok.lower.endswith("ing") and tok.head != tok.i \
                and toks[tok.head].lower in DIRECTIONS and verb_lemma(tok, COMMON_VERBS) is not None:
            tok.pos, tok.tag, tok.lemma = "VERB", "VBG", verb_lemma(tok, COMMON_VERBS) or tok.lemma
            changed = True
    for tok in toks:  # "a circle against a backdrop, contracting": an -ing word with a subject is a verb
        if tok.pos in ("NOUN", "PROPN") and tok.lower.endswith("ing") and verb_lemma(tok, COMMON_VERBS) \
                and (tok.dep in ("acl", "relcl", "advcl") or any(c.head == tok.i and c.dep == "nsubj" for c in toks)):
            tok.pos, tok.tag, tok.lemma = "VERB", "VBG", verb_lemma(tok, COMMON_VERBS) or tok.lemma
            changed = True
    for tok in toks:  # verbs after nouns
        lemma = verb_lemma(tok, COMMON_VERBS)
        prev = _previous_word(toks, tok.i)
        if lemma is None or prev is None or toks[prev].pos not in ("NOUN", "PROPN"):
            continue
        if tok.pos != "VERB" and toks[prev].head == prev and tok.head == prev and tok.dep in (
                "dobj", "compound", "appos", "npadvmod", "nmod"):  # "an orb shrinks" read as "orb [shrinks]"
            tok.head, tok.dep = tok.i, "ROOT"
            toks[prev].head, toks[prev].dep = tok.i, "nsubj"
            for c in toks:
                if c.head == prev and c.i > tok.i:
                    c.head = tok.i
        third_person = tok.lower.endswith("s") and not tok.lower.endswith("ss")
        after_plural = toks[prev].tag in ("NNS", "NNPS") and tok.lower == lemma
        last_word = tok.i + 1 == len(toks) or toks[tok.i + 1].pos == "PUNCT"
        nominal = tok.dep in ("appos", "dobj", "npadvmod", "nmod", "conj", "dep", "ROOT", "acl", "acomp") or (
            tok.dep == "compound" and toks[tok.head].lower in DIRECTIONS) or (  # "triangles travel rightwards"
            tok.dep == "pobj" and last_word)  # "on a backdrop, two blocks bob"
        if tok.pos != "VERB" and (third_person or after_plural) and nominal:  # "a couple of blocks bob"
            keep = tok.dep in ("ROOT", "compound", "acl")
            tok.pos, tok.tag, tok.lemma = "VERB", ("VBZ" if third_person else "VBP"), lemma
            tok.dep = tok.dep if keep else "dep"
            changed = True
            continue
        if tok.pos != "VERB" and (tok.lower.endswith("ing") or (toks[prev].head == tok.i and (
                third_person or after_plural))):
            tok.pos = "VERB"
            tok.tag = "VBG" if tok.lower.endswith("ing") else ("VBZ" if tok.lower.endswith("s") else "VBP")
            tok.lemma = lemma
            changed = True
    for verb in toks:  # "going rightwards", "sitting motionless" with the verb hung off the word after it
        if verb.pos == "VERB" and verb.dep in ("compound", "amod") and verb.head != verb.i \
                and toks[verb.head].lower in set(DIRECTIONS) | STILL_ADJECTIVES and verb.head > verb.i:
            word = toks[verb.head]
            verb.dep, verb.head = word.dep, (verb.i if word.head == word.i else word.head)
            for c in range(verb.i):
                if toks[c].head == word.i:
                    toks[c].head = verb.i
            word.head, word.dep = verb.i, "advmod"
            changed = True
    for verb in toks:  # nouns swallowed by the verb after them
        if verb.pos != "VERB":
            continue
        prev = _previous_word(toks, verb.i)
        if prev is None:
            continue
        noun = toks[prev]
        if noun.pos not in ("NOUN", "PROPN") or noun.head != verb.i or noun.dep not in (
                "compound", "amod", "nmod", "npadvmod", "dep", "advmod"):
            continue
        if verb.head == verb.i or verb.dep == "ROOT":
            noun.dep = "nsubj"
        else:
            noun.head, noun.dep = verb.head, verb.dep
            verb.head, verb.dep = noun.i, "acl"
        for c in range(noun.i):
            if toks[c].head == verb.i and toks[c].dep in ("det", "amod", "compound", "nummod", "poss", "advmod"):
                toks[c].head = noun.i
        changed = True
    changed |= _gather_noun_phrases(toks)
    return Parse(text=parse.text, tokens=toks) if changed else parse


def _gather_noun_phrases(toks: list[Tok]) -> bool:
    """Give each noun the determiners, numbers, adjectives and colour or size words right before it that
    the parser hung elsewhere ("a little orange circle" with *little* under *a*; "two little balls" with
    *two* under *little*; "a miniature crimson sphere" with *crimson* as the head and *sphere* its
    modifier)."""
    from .lexicon import COLORS, DIRECTIONS, PLACE_WORDS, SIZES

    modifier_deps = ("det", "nummod", "amod", "compound", "nmod", "advmod", "poss", "quantmod", "npadvmod")
    changed = False
    for noun in toks:
        if noun.pos not in ("NOUN", "PROPN") or noun.lower in COLORS | SIZES:
            continue
        if noun.lower in PLACE_WORDS and noun.i and toks[noun.i - 1].pos in ("NOUN", "PROPN"):
            continue  # "a dot right of ...": *right* opens a place phrase, it does not head the noun phrase
        if noun.dep == "compound" and toks[noun.head].pos in ("NOUN", "PROPN") \
                and toks[noun.head].lower not in PLACE_WORDS and toks[noun.head].lower not in DIRECTIONS:
            continue
        start = noun.i
        while start > 0 and toks[start - 1].pos in ("DET", "NUM", "ADJ", "NOUN", "PROPN", "ADV") \
                and not (toks[start - 1].pos in ("NOUN", "PROPN") and toks[start - 1].dep not in (
                    "compound", "amod", "nmod") and toks[start - 1].lower not in COLORS | SIZES):
            start -= 1
        span = range(start, noun.i)
        for j in span:
            t = toks[j]
            if t.pos == "ADV":
                continue
            if t.head == t.i:  # the modifier took the noun's place as the root
                noun.head, noun.dep = noun.i, "ROOT"
                for c in toks:
                    if c.head == t.i and c.i not in span and c.i != noun.i:
                        c.head = noun.i
            head = toks[t.head]
            keep = t.head == noun.i or (t.pos in ("ADJ", "ADV") and head.pos == "ADJ" and t.head in span)
            if not keep:
                if noun.head == t.i:  # the noun hung off its own modifier: it takes the modifier's place
                    noun.head = noun.i if t.head in (t.i, noun.i) else t.head
                    noun.dep = "ROOT" if noun.head == noun.i else t.dep
                t.head = noun.i
                changed = True
            wrong_label = t.dep not in modifier_deps or (t.pos == "ADJ" and t.dep not in ("amod", "advmod", "conj")) \
                or (t.pos == "DET" and t.dep != "det")  # "a little square" with *little* a number, *a* a quantifier
            if t.head == noun.i and wrong_label:
                t.dep = {"DET": "det", "NUM": "nummod", "ADJ": "amod"}.get(t.pos, "compound")
                changed = True
    return changed


def _previous_word(toks: list[Tok], i: int) -> int | None:
    """The token before ``i``, skipping adverbs."""
    j = i - 1
    while j >= 0 and toks[j].pos == "ADV":
        j -= 1
    return j if j >= 0 else None


def verb_lemma(tok: Tok, verbs: frozenset[str]) -> str | None:
    """The lemma of ``tok`` if it is (or, mis-tagged as a noun, could be) one of ``verbs``."""
    if tok.pos not in ("VERB", "NOUN", "PROPN", "ADJ", "AUX"):
        return None
    if tok.pos == "VERB":
        return tok.lemma
    word = tok.lower
    candidates = [tok.lemma, word]
    if word.endswith("ing") and len(word) > 4:
        stem = word[:-3]
        candidates += [stem, stem + "e"] + ([stem[:-1]] if len(stem) > 2 and stem[-1] == stem[-2] else [])
    elif word.endswith("es"):
        candidates += [word[:-2], word[:-1]]
    elif word.endswith("s"):
        candidates.append(word[:-1])
    return next((c for c in candidates if c in verbs), None)


def fix_ing_lemma(text: str, lemma: str, tag: str) -> str:
    """Restore a dropped final "e": a one-syllable consonant-vowel-consonant stem before an undoubled
    "-ing" ("riding" → "ride", not "rid"; "running" and "eating" stay as they are)."""
    word = text.lower()
    if tag != "VBG" or not word.endswith("ing") or lemma != word[:-3]:
        return lemma
    stem, vowels = lemma, "aeiou"
    if len(stem) < 2 or stem[-1] in vowels or stem[-1] in "wxy":
        return lemma
    if stem[-2] not in vowels or (len(stem) > 2 and stem[-3] in vowels):
        return lemma
    syllables = sum(1 for i, ch in enumerate(stem) if ch in vowels and (i == 0 or stem[i - 1] not in vowels))
    return stem + "e" if syllables == 1 else lemma
