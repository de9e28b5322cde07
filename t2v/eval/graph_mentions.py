"""Scene-graph rules for noun phrases: which words are things, their names, counts, modifiers and parts.

Mixed into :class:`t2v.eval.scene_graph.SceneGraphBuilder`, whose entity store (``entity``,
``add_attribute``, ...) and clause rules these methods use.
"""

from __future__ import annotations

import re

from . import lexicon as lx
from .graph_common import (
    COLOR_FILLERS,
    FILLER_ADVERBS,
    NAME_ADJECTIVES,
    NOUN_POS,
    SKIP_MODIFIERS,
    VALUE_STOPWORDS,
    State,
    color_word,
    is_made_of,
    number_value,
    value_run,
)
from .parsing import Tok
from .segments import QUOTE_PLACEHOLDER
from .types import Entity


class MentionRules:
    """Entities from noun phrases: mentions, names, counts, adjectives, possession, quoted text."""

    def _trailing_sets(self, st: State) -> None:
        """ "peacock birds, set of two": a count given after the noun."""
        toks = st.toks
        for t in toks:
            if t.lower not in ("set", "pack", "collection", "lot", "group") or t.i + 2 >= len(toks):
                continue
            if toks[t.i + 1].lower != "of" or number_value(toks[t.i + 2]) is None:
                continue
            if t.i + 3 < len(toks) and toks[t.i + 3].pos in NOUN_POS:
                continue  # "a set of six plates": counted with the plates
            prev = self._preceding_object(st, t.i)
            if prev is not None:
                ent = self.entity(st.mentions[prev])
                if ent.count is None:
                    ent.count = number_value(toks[t.i + 2])
                    ent.plural = False

    def _listed_adjectives(self, st: State) -> None:
        """ "a monster in a cave, furry, colorful": adjectives standing alone between commas describe the
        prompt's main (first) object."""
        main = next((e for e in self.graph.entities if e.kind == "object" and e.part_of is None), None)
        if main is None:
            return
        pieces: list[list[Tok]] = [[]]
        for t in st.toks:
            if t.pos == "PUNCT" and t.text in (",", ";", ".", "!", "?"):
                pieces.append([])
            else:
                pieces[-1].append(t)
        for piece in pieces:
            words = [t for t in piece if t.pos not in ("CCONJ", "PUNCT")]
            if not words or any(t.i in st.mentions or t.i in st.consumed for t in words):
                continue
            if all(t.pos == "ADJ" or (t.pos == "ADV" and t.head in {w.i for w in words}) for t in words):
                for t in words:
                    if t.pos == "ADJ":
                        self._adjective(st, t, main)

    def _mark_phrases(self, st: State) -> None:
        """Mark multi-word spatial phrases ("in front of"): their last word stands for all."""
        words = [t.lower for t in st.toks]
        i = 0
        while i < len(words):
            for n in range(min(lx.MAX_PHRASE, len(words) - i), 1, -1):
                pred = lx.SPATIAL_PHRASES.get(tuple(words[i:i + n]))
                if pred is not None:
                    st.phrase_end[i + n - 1] = (pred, i)
                    st.consumed.update(range(i, i + n - 1))
                    i += n - 1
                    break
            i += 1

    def _mark_changes(self, st: State) -> None:
        """ "turns from red to blue", "becomes blue": the values become timed attributes later."""
        toks = st.toks
        for v in toks:
            if v.lemma not in lx.CHANGE_VERBS or v.pos not in ("VERB", "AUX", "NOUN"):
                continue
            j = v.i + 1
            if j < len(toks) and toks[j].lower in ("its", "their", "his", "her"):
                j += 1
            if j < len(toks) and toks[j].lemma in ("color", "colour", "size", "shape"):
                j += 1
            start: list[str] | None = None
            if j < len(toks) and toks[j].lower == "from":
                start, k = value_run(toks, j + 1)
                if not start or k >= len(toks) or toks[k].lower not in ("to", "into"):
                    continue
                end, stop = value_run(toks, k + 1)
            elif j < len(toks) and toks[j].lower in ("to", "into"):
                end, stop = value_run(toks, j + 1)
            else:
                end, stop = value_run(toks, j)
            if end:
                st.consumed.update(range(v.i + 1, stop))
                st.marks[v.i] = "change:" + " ".join(start or []) + "|" + " ".join(end)

    def _mark_directions(self, st: State) -> None:
        """Directions after verbs of travel: "moving left", "slides to the right", "floats up"."""
        toks = st.toks
        for v in toks:
            if v.lemma not in lx.TRAVEL_VERBS or v.i in st.marks:
                continue
            j = v.i + 1
            if j < len(toks) and toks[j].lower in ("slowly", "quickly", "steadily", "smoothly", "gently", "fast"):
                j += 1
            first = j
            if j < len(toks) and toks[j].lower in ("to", "toward", "towards"):
                j += 1
                if j < len(toks) and toks[j].lower == "the":
                    j += 1
            if j >= len(toks) or toks[j].lower not in lx.DIRECTIONS:
                continue
            nxt = toks[j + 1] if j + 1 < len(toks) else None
            if nxt is not None and (nxt.lower == "of" or (nxt.pos in NOUN_POS and toks[j].lower in NAME_ADJECTIVES
                                                           and nxt.lower not in lx.PLACE_WORDS)):
                continue
            st.marks[v.i] = lx.DIRECTIONS[toks[j].lower]
            st.consumed.update(range(first, j + 1))
            st.phrase_end.pop(j, None)

    def _is_nounlike(self, st: State, tok: Tok) -> bool:
        """Whether a token can name a thing (nouns, "someone", nouns tagged as adjectives)."""
        if tok.i in st.consumed:
            return False
        if tok.pos in NOUN_POS or tok.lower in lx.PERSON_PRONOUNS:
            return True
        if tok.pos != "ADJ" or tok.dep not in ("pobj", "nsubj", "dobj", "ROOT", "attr", "conj", "appos"):
            return False
        # Taggers sometimes call a noun an adjective when it heads a phrase ("a flock of geese",
        # "a small purple square bouncing"): a determiner or adjectives of its own give it away.
        dets = {self_child.lower for self_child in (st.toks[c] for c in tok.children) if self_child.dep == "det"}
        own_adjectives = any(st.toks[c].dep == "amod" for c in tok.children)
        return tok.lower in lx.IRREGULAR_PLURALS or bool(dets & {"a", "an", "the"}) or (
            own_adjectives and tok.lower in lx.SHAPE_NOUNS)

    def _maybe_mention(self, st: State, tok: Tok) -> None:
        """Make ``tok`` a mention of a new or earlier entity, unless it names no thing."""
        toks = st.toks
        if tok.pos == "PRON" and tok.lower in lx.ANAPHORS and tok.dep != "expl":
            target = self._resolve(st, tok)
            if target is not None:
                st.mentions[tok.i] = target
            return
        if tok.text == QUOTE_PLACEHOLDER:
            self._quoted(st, tok)
            return
        if not self._is_nounlike(st, tok):
            return
        if tok.lemma in ("shape", "form") and self._shaped_like(st, tok):
            return
        if tok.dep in ("compound", "nmod") and toks[tok.head].pos in NOUN_POS and tok.head not in st.consumed \
                and tok.head > tok.i:
            return
        if tok.dep == "amod" and toks[tok.head].pos in NOUN_POS and tok.head > tok.i \
                and (tok.lower in lx.SIZES or tok.lower in lx.COLORS or tok.pos == "ADJ"):
            return  # "a big emerald box" with *big* tagged a proper noun: still a modifier
        lemma = tok.text.lower() if tok.pos == "PROPN" else tok.lemma
        has_of = any(toks[c].lower == "of" and toks[c].dep == "prep" for c in tok.children)
        if lemma in lx.BACKGROUND_NOUNS:
            st.mentions[tok.i] = self.pseudo("background").id
            return
        if tok.pos == "PROPN" and tok.dep == "pobj" and self._style_source(st, tok):
            return
        if lemma in lx.QUANTITY_NOUNS and has_of:
            return
        if lemma in lx.META_NOUNS and (has_of or tok.dep in ("pobj", "ROOT", "appos", "nsubj", "npadvmod")
                                       or lemma in lx.META_ALWAYS):
            return
        if lemma in lx.PLACE_WORDS or lemma in lx.SCENE_NOUNS:
            return
        if lemma in lx.COLORS and (tok.dep in ("amod", "compound", "nmod") or not (
                lemma in lx.COLOR_NOUNS and any(toks[c].dep == "det" for c in tok.children))):
            return
        if lemma == "rest" and tok.dep == "pobj" and toks[tok.head].lower == "at":  # "at rest": not moving
            st.at_rest.append(tok.head)
            st.consumed.update((tok.i, tok.head))
            return
        if tok.dep == "pobj" and is_made_of(toks, tok.head) and (lemma in lx.MATERIALS or not any(
                toks[c].dep == "det" for c in tok.children)):
            return  # "made of wood", "made from desserts": what it is made of, not a thing beside it
        if lemma in COLOR_FILLERS and (tok.dep == "pobj" or any(
                toks[c].lower in lx.COLORS for c in st.parse.subtree(tok.i))):
            return  # "in red color", "of red and silver color": a colour, not a thing
        name_tokens = self._name_tokens(st, tok)
        st.consumed.update(t.i for t in name_tokens if t.i != tok.i)
        name = " ".join(t.text if t.pos == "PROPN" else t.lower for t in name_tokens)
        key = " ".join([t.lower for t in name_tokens[:-1]] + [lemma])
        plural = (tok.tag in ("NNS", "NNPS") or tok.lower in lx.IRREGULAR_PLURALS
                  or (tok.pos == "NOUN" and tok.lemma != tok.lower and tok.lower.endswith("s")))
        determiners = {toks[c].lower for c in tok.children if toks[c].dep in ("det", "poss")}
        count = self._count(st, tok)
        amount = None if count is not None else self._amount(st, tok)
        existing = self._find(key)
        if existing is not None and not (determiners & {"a", "an", "another", "one"}) and count is None:
            ent = existing
        else:
            ent = self._new_entity(name, key, plural=plural and count is None, count=count)
            if lemma in lx.SHAPE_NOUNS:
                self.add_attribute(ent, "shape", lemma)
            if amount is not None:
                self.add_attribute(ent, "count", amount)
            kinds = [t.lower for t in name_tokens[:-1] if t.pos == "NOUN" and t.lower not in NAME_ADJECTIVES]
            if kinds:  # DSG asks a compound's modifier on its own: "Is the hat a cowboy hat?"
                self.add_attribute(ent, "type", " ".join(kinds))
        st.mentions[tok.i] = ent.id
        if ent.id in self._recent:
            self._recent.remove(ent.id)
        self._recent.append(ent.id)

    def _quoted(self, st: State, tok: Tok) -> None:
        """Words to be written ("the word 'jazz'"): a text attribute of the noun they label, not a thing."""
        text = self._quotes.pop(0) if self._quotes else ""
        st.consumed.add(tok.i)
        target = tok.head if tok.head in st.mentions else self._preceding_object(st, tok.i)
        if target is None or not text:
            return
        st.labels[tok.i] = target
        self.add_attribute(self.entity(st.mentions[target]), "text", text)

    def _shaped_like(self, st: State, tok: Tok) -> bool:
        """ "a sign in the shape of a pineapple": a shape attribute of the sign, no shape or pineapple entity."""
        toks = st.toks
        of = next((c for c in tok.children if toks[c].lower == "of"), None)
        obj = next((c for c in toks[of].children if toks[c].dep == "pobj"), None) if of is not None else None
        if obj is None or toks[tok.head].lower not in ("in", "into", "like"):
            return False
        owner = toks[tok.head].head
        target = owner if owner in st.mentions else self._preceding_object(st, tok.i)
        words = [toks[k].lower for k in st.parse.subtree(obj) if toks[k].pos not in ("DET", "PUNCT")]
        if target is None or not words:
            return False
        st.consumed.update(st.parse.subtree(tok.i))
        st.consumed.discard(of)
        if toks[obj].text == QUOTE_PLACEHOLDER:
            self._quoted(st, toks[obj])
        self.add_attribute(self.entity(st.mentions[target]), "shape", " ".join(
            w for w in words if w != QUOTE_PLACEHOLDER.lower()) or "text")
        st.used_preps.add(tok.head)
        return True

    def _style_source(self, st: State, tok: Tok) -> bool:
        """ "by Greg Rutkowski", "in the style of van Gogh": a name that gives the style, not a thing in
        the scene. Recorded as a style attribute of the phrase it hangs off (or of the main object)."""
        toks = st.toks
        prep = toks[tok.head]
        owner = toks[prep.head] if prep.head != prep.i else None
        styled = prep.lower == "of" and owner is not None and owner.lemma == "style"
        by_name = prep.lower == "by" and prep.dep == "prep" and owner is not None and owner.pos in NOUN_POS
        if not (styled or by_name):
            return False
        name = " ".join(toks[t].text for t in st.parse.subtree(tok.i) if toks[t].dep in ("compound", "flat")
                        or t == tok.i)
        target = None
        if by_name and owner is not None and owner.i in st.mentions:
            target = self.entity(st.mentions[owner.i])
        if target is None or target.kind != "object":
            target = next((e for e in self.graph.entities if e.kind == "object" and e.part_of is None), None)
        if target is not None:
            self.add_attribute(target, "style", name)
        else:
            st.pending_styles.append(name)
        st.consumed.update(t for t in st.parse.subtree(tok.i))
        return True

    def _name_tokens(self, st: State, head: Tok) -> list[Tok]:
        """The head noun with the compound nouns (and left/right) right before it: "dining table", "left arm"."""
        toks = st.toks
        names = [head]
        j = head.i - 1
        while j >= 0:
            t = toks[j]
            linked = t.head in {n.i for n in names}
            if j in st.consumed or not linked:
                break
            if t.dep in ("compound", "nmod") and t.lower not in lx.MATERIALS and t.lower not in lx.COLORS \
                    and t.lower not in lx.SIZES and t.lower not in COLOR_FILLERS and t.pos in ("NOUN", "PROPN", "NUM"):
                names.insert(0, t)
            elif t.lower in NAME_ADJECTIVES and t.dep in ("amod", "compound", "advmod", "nmod"):
                names.insert(0, t)
            else:
                break
            j -= 1
        return names

    def _amount(self, st: State, tok: Tok) -> str | None:
        """A vague quantity: "several people", "many birds", "a lot of clouds", "a bunch of flowers"."""
        toks = st.toks
        for c in tok.children:
            if toks[c].lower in lx.VAGUE_AMOUNTS and toks[c].dep in ("amod", "det", "nummod", "quantmod"):
                return toks[c].lower
        if tok.dep == "pobj" and toks[tok.head].lower == "of" and toks[tok.head].head != tok.head:
            owner = toks[toks[tok.head].head]
            if owner.lower in lx.VAGUE_AMOUNT_NOUNS or owner.lemma in lx.COLLECTIVE_NOUNS:
                single = owner.lower in ("lot", "bunch", "number") or owner.lemma in lx.COLLECTIVE_NOUNS
                return ("a " if single and owner.lower == owner.lemma else "") + owner.lower
        return None

    def _count(self, st: State, tok: Tok) -> int | None:
        """The exact number given for a noun ("two dogs", "a pair of shoes"), or None."""
        toks = st.toks
        for c in tok.children:
            t = toks[c]
            if t.dep == "nummod" or (t.dep in ("det", "amod", "quantmod") and t.lower in lx.NUMBERS):
                value = number_value(t)
                if value is not None and value > 0:
                    return value
        # "a pair of shoes" (however the parser hung it): the words before the noun phrase
        start = tok.i
        while start > 0 and (toks[start - 1].pos in ("ADJ", "DET") or toks[start - 1].dep == "compound"
                             or toks[start - 1].lower in lx.COLORS | lx.SIZES):
            start -= 1
        if start >= 2 and toks[start - 1].lower == "of" and toks[start - 2].lower in ("pair", "couple", "dozen"):
            return lx.NUMBERS[toks[start - 2].lower]
        # "a set of six plates"
        if tok.dep == "pobj" and toks[tok.head].lower == "of":
            owner = toks[toks[tok.head].head]
            if owner.lower in ("pair", "couple", "dozen"):
                return lx.NUMBERS[owner.lower]
            if owner.lemma in lx.QUANTITY_NOUNS:
                for c in owner.children:
                    if toks[c].dep == "nummod":
                        return number_value(toks[c])
        return None

    def _resolve(self, st: State, tok: Tok) -> str | None:
        """The entity an anaphor stands for: the last subject if its number fits, else the latest that fits,
        never one whose own phrase holds the pronoun ("a square left of it" is not left of itself)."""
        plural = tok.lower in ("they", "them", "their", "themselves", "these", "those", "theirs")
        candidates = ([self._last_subject] if self._last_subject else []) + list(reversed(self._recent))
        if tok.lower in lx.PERSONAL_PRONOUNS:  # "he", "she", "they": people first, when there are any
            people = [e for e in candidates if self._keys.get(e, "").split()[-1:] and
                      self._keys[e].split()[-1] in lx.PERSON_NOUNS]
            candidates = people + [e for e in candidates if e not in people]
        enclosing, j = set(), tok.i
        while st.toks[j].head != j:
            j = st.toks[j].head
            if j in st.mentions:
                enclosing.add(st.mentions[j])
                break
        for eid in candidates:
            ent = self.entity(eid)
            if ent.kind != "object" or eid in enclosing or (ent.part_of is not None and eid != self._last_subject):
                continue
            if (ent.plural or (ent.count or 1) > 1) == plural:
                return eid
        return self._recent[-1] if self._recent else None

    def _group(self, st: State, i: int) -> list[str]:
        """The entity at token ``i`` and those joined to it by "and": "a dog and a cat" → [dog, cat]."""
        out, stack = [], [i]
        while stack:
            j = stack.pop()
            if j in st.mentions and st.mentions[j] not in out:
                out.append(st.mentions[j])
            stack.extend(c for c in st.toks[j].children if st.toks[c].dep == "conj" and c in st.mentions)
        return out

    def _modifiers(self, st: State, head: Tok) -> None:
        """The attributes that a noun's own modifiers give its entity."""
        if head.pos == "PRON":
            return
        ent = self.entity(st.mentions[head.i])
        toks = st.toks
        for c in head.children:
            t = toks[c]
            if t.lower in COLOR_FILLERS and t.i < head.i:  # "a white color surface": the colour is the surface's
                for d in t.children:
                    if toks[d].dep in ("amod", "compound", "conj", "nmod") and d not in st.mentions:
                        self._adjective(st, toks[d], ent)
                continue
            if c in st.consumed or c in st.mentions:
                continue
            post = c > head.i and t.pos in ("ADJ", "ADV") and t.dep in ("amod", "advmod", "npadvmod", "acomp", "oprd")
            if post and not self._simple(st, t) and t.lower not in FILLER_ADVERBS:
                # "left arm straight in front": a predicate after its noun, kept whole
                self._complement(st, t, ent, None)
            elif post and t.dep in ("oprd", "acomp") and t.lower not in FILLER_ADVERBS:  # "left leg straight"
                self.add_attribute(ent, lx.attribute_category(t.lower), t.lower)
            elif t.dep in ("amod", "compound", "nmod", "npadvmod") or (t.dep == "advmod" and (
                    t.pos == "ADJ" or (c < head.i and (t.lower in lx.COLORS or t.lower in lx.SIZES)))):
                self._adjective(st, t, ent)
                # "a small yellow dot" parsed with *small* hanging off *yellow*
                for d in t.children:
                    if d < t.i and toks[d].dep in ("amod", "compound", "advmod", "npadvmod") and toks[d].lower \
                            not in lx.COLOR_SHADES and (lx.attribute_category(toks[d].lower) != "state"
                                                        or toks[d].dep == "amod" and toks[d].pos == "ADJ"):
                        self._adjective(st, toks[d], ent)
            elif t.dep == "advmod" and t.pos == "ADV" and c > head.i and t.lower not in FILLER_ADVERBS:
                words = [toks[k].lower for k in st.parse.subtree(c) if toks[k].lower not in VALUE_STOPWORDS]
                if words:
                    self.add_attribute(ent, "state", " ".join(words))
            elif t.dep in ("acl", "relcl") and t.pos == "ADJ":
                self._adjective(st, t, ent)

    def _adjective(self, st: State, t: Tok, ent: Entity, frames: tuple[float, float] | None = None) -> None:
        """One adjectival modifier (with its "and"-joined siblings and degree words) → attribute(s)."""
        toks = st.toks
        word = t.lower
        for c in t.children:
            if toks[c].dep == "conj" and toks[c].pos in ("ADJ", "VERB") and c not in st.consumed:
                self._adjective(st, toks[c], ent, frames)
        if word in SKIP_MODIFIERS or word in lx.NUMBERS or t.pos in ("DET", "PRON", "NUM", "PUNCT", "CCONJ",
                                                                     "ADP", "PART", "SYM", "X"):
            return
        if t.pos == "ADV" and word not in lx.TEXTURES and word not in lx.COLORS:
            return
        color = color_word(word)
        if color:
            shades = [toks[c].lower for c in t.children if toks[c].dep in ("advmod", "amod", "compound", "npadvmod")
                      and toks[c].lower in lx.COLOR_SHADES and c < t.i]
            self.add_attribute(ent, "color", " ".join(shades + [color]), frames)
            return
        if word in lx.COLOR_SHADES and toks[t.head].lower in lx.COLORS:
            return
        if word in lx.MATERIALS:
            self.add_attribute(ent, "material", lx.MATERIALS[word], frames)
            return
        if word in lx.STILL_ADJECTIVES:
            self.add_relation(ent.id, "stay still", None, "action", frames)
            return
        if t.pos in NOUN_POS and t.dep == "compound" and ent.kind != "background" \
                and lx.attribute_category(word) == "state":
            return  # a compound noun not in the name (coordinated modifiers): not an attribute
        if not re.fullmatch(r"[a-z][a-z'-]*", word):
            return
        degree = [toks[c].lower for c in t.children if toks[c].dep in ("advmod", "npadvmod") and c < t.i
                  and toks[c].lower not in FILLER_ADVERBS]
        self.add_attribute(ent, lx.attribute_category(word), " ".join(degree + [word]), frames)

    def _parts(self, st: State, head: Tok) -> None:
        """Possession: "the woman's hat", "their arms", "a knife with a handle", "a boy in a red jacket"."""
        toks = st.toks
        owner_id = st.mentions[head.i]
        owner = self.entity(owner_id)
        if owner.kind != "object":
            return
        if head.dep == "appos" and head.head in st.mentions and head.pos == "NOUN":
            # "a lone person - perhaps a lifeguard -": what the person is
            described = self.entity(st.mentions[head.head])
            if described.kind == "object" and described.id != owner_id:
                self.add_attribute(described, "type", owner.name)
        if head.dep == "poss":
            part_tok = toks[head.head]
            if part_tok.i in st.mentions:
                self._attach(st.mentions[part_tok.i], owner_id)
        if head.pos == "PRON":
            return
        for c in head.children:
            p = toks[c]
            if p.dep != "prep" or p.lower not in ("with", "in", "wearing"):
                continue
            for obj in (d for d in p.children if d in st.mentions):
                for part_id in self._group(st, obj):
                    part = self.entity(part_id)
                    if p.lower == "with" or part.name.split()[-1] in lx.CLOTHING:
                        self._attach(part_id, owner_id)
                        st.consumed.add(c)

    def _attach(self, part_id: str, owner_id: str) -> None:
        """Make ``part_id`` a part of ``owner_id`` unless it already belongs elsewhere."""
        part = self.entity(part_id)
        if part_id != owner_id and part.kind == "object" and part.part_of is None \
                and self.entity(owner_id).part_of != part_id:
            part.part_of = owner_id
