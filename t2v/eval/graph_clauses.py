"""Scene-graph rules for clauses: subjects, verbs and what they say (actions, motions, states,
changes, places), and prepositions that locate one thing against another.

Mixed into :class:`t2v.eval.scene_graph.SceneGraphBuilder`, whose entity store and noun-phrase rules
these methods use.
"""

from __future__ import annotations

import re

from . import lexicon as lx
from .graph_common import (
    COLOR_FILLERS,
    FILLER_ADVERBS,
    MADE_VERBS,
    NOUN_POS,
    RELATIVE_PRONOUNS,
    SEE_VERBS,
    SUBJECT_DEPS,
    VALUE_STOPWORDS,
    State,
    color_word,
    end_of,
    start_of,
)
from .parsing import Tok
from .types import Entity


class ClauseRules:
    """Relations and states from verbs, copulas and prepositions."""

    def _at_rest(self, st: State, at: int) -> None:
        """The "at rest" of the noun before it (or of the verb's subject): not moving."""
        governor = st.toks[at].head
        if at - 1 in st.mentions and self.entity(st.mentions[at - 1]).kind == "object":
            subjects = [st.mentions[at - 1]]  # "a wedge at rest": like a motion, it follows its noun
        elif governor in st.mentions:
            subjects = [st.mentions[governor]]
        else:
            subjects = self._subjects(st, st.toks[governor])
        for eid in subjects:
            self.add_relation(eid, "stay still", None, "action", st.frames)

    def _subject_token(self, st: State, v: Tok, depth: int = 0) -> int | None:
        """The mention token that is the subject of verb (or predicative adjective) ``v``."""
        toks = st.toks
        for c in v.children:
            t = toks[c]
            if t.dep not in SUBJECT_DEPS:
                continue
            if t.dep == "expl":  # "there is a dog on the sofa": the dog
                return next((d for d in v.children if toks[d].dep in ("attr", "dobj") and d in st.mentions), None)
            if t.lower in RELATIVE_PRONOUNS and v.dep == "relcl" and v.head in st.mentions:
                return v.head
            if c in st.mentions:
                return c
            if c in st.labels:  # "the word 'jazz' written in cursive": the word is written
                return st.labels[c]
            return next((d for d in st.parse.subtree(c) if d in st.mentions), None)
        if v.dep in ("acl", "relcl", "amod", "appos") and v.head in st.mentions \
                and self.entity(st.mentions[v.head]).kind == "object":
            return v.head
        # "a sphere on a backdrop, going right" with the noun hung under the verb
        nominal = next((c for c in v.children if c < v.i and c in st.mentions and (
            toks[c].dep in ("npadvmod", "nmod", "dep") or (toks[c].dep in ("amod", "compound")
                                                            and toks[c].pos in NOUN_POS))), None)
        if nominal is not None:
            return nominal
        if depth < 4 and v.dep in ("conj", "advcl", "xcomp", "ccomp", "pcomp", "dep", "acl", "relcl") \
                and v.head != v.i:
            head = toks[v.head]
            if head.i in st.mentions and v.dep in ("conj", "dep", "acl", "advcl"):
                return head.i
            if head.pos in ("VERB", "AUX", "ADJ"):
                return self._subject_token(st, head, depth + 1)
            if head.pos == "ADP" or head.dep == "pobj":  # "with their torso bent": the noun before
                return next((d for d in (v.i - 1, v.i - 2) if d in st.mentions), None)
        if v.dep == "ROOT" and v.tag in ("VBG", "VBN"):
            return next((d for d in range(v.i - 1, -1, -1) if d in st.mentions), None)
        return self._adjacent_noun(st, v)  # a participle right after its noun, whatever the tree says

    def _is_motion_verb(self, st: State, v: Tok) -> bool:
        """Whether ``v`` is read as a motion (travel with direction, growth, bounce, stillness)."""
        words = {st.toks[c].lower for c in v.children}
        return (v.i in st.marks or v.lemma in lx.GROW_VERBS | lx.SHRINK_VERBS | lx.BOUNCE_VERBS | lx.STILL_VERBS
                or (v.lemma in lx.TRAVEL_VERBS and not any(st.toks[c].dep == "dobj" for c in v.children))
                or (v.lemma in lx.STAY_VERBS and bool(words & lx.STILL_ADJECTIVES)))

    def _preceding_object(self, st: State, i: int) -> int | None:
        """The nearest mention of a real object before token ``i`` (not the background)."""
        return next((d for d in range(i - 1, -1, -1) if d in st.mentions
                     and self.entity(st.mentions[d]).kind == "object"), None)

    def _adjacent_noun(self, st: State, v: Tok) -> int | None:
        """The mention right before ``v`` (adverbs skipped) when ``v`` is a participle or present verb."""
        j = v.i - 1
        while j >= 0 and (st.toks[j].pos == "ADV" or st.toks[j].lower in ("not", "n't")):
            j -= 1
        if j >= 0 and j in st.mentions and v.tag in ("VBG", "VBZ", "VBP", "VBN", "VB"):
            return j
        return None

    def _subjects(self, st: State, v: Tok) -> list[str]:
        """The entities a verb (or predicative adjective) says something about."""
        # A motion word belongs to the noun it follows ("a square growing left of a circle bouncing"),
        # which is where a small parser most often hangs it elsewhere.
        motion = self._is_motion_verb(st, v)
        adjacent = self._adjacent_noun(st, v) if motion else None
        i = adjacent if adjacent is not None else self._subject_token(st, v)
        if i is None and motion:  # "a wedge on a grey background, heading left"
            i = self._preceding_object(st, v.i)
        if i is None:
            return []
        # a relative clause or participle belongs to its noun alone, not to nouns joined to it by "and"
        alone = adjacent is not None or (v.dep in ("acl", "relcl", "amod") and v.head == i)
        first = i
        if not motion and v.dep == "acl" and v.head == i and st.toks[i].dep == "conj":
            # "a man and a woman posing": the participle after the last of joined nouns is all of theirs
            while st.toks[first].dep == "conj" and st.toks[first].head in st.mentions:
                first = st.toks[first].head
            alone = False
        group = [st.mentions[i]] if alone else self._group(st, first)
        owner_part = self.entity(st.mentions[i]).part_of is not None
        group = [e for e in group if (self.entity(e).part_of is not None) == owner_part] or group
        # "a boy in a red jacket standing": the clause belongs to the wearer, not the jacket
        out = []
        wearer = st.toks[st.toks[i].head]
        for eid in group:
            ent = self.entity(eid)
            if st.toks[i].dep != "nsubj" and ent.part_of is not None and ent.name.split()[-1] in lx.CLOTHING:
                eid = ent.part_of
            elif st.toks[i].dep == "dobj" and wearer.lemma == "wear" and ent.name.split()[-1] in lx.CLOTHING:
                # "humans wearing clothing interacting with ...": the wearers interact
                wearers = self._subjects(st, wearer)
                eid = wearers[0] if wearers else eid
            if eid not in out:
                out.append(eid)
        if out and self.entity(out[0]).kind == "object":
            self._last_subject = out[0]
        return out

    def _predicate(self, st: State, v: Tok) -> None:
        """Everything one verb says, for each of its subjects."""
        if v.dep in ("aux", "auxpass"):
            return
        subjects = self._subjects(st, v)
        if v.lemma in ("wear", "dress") and subjects and not self._is_person(subjects[0]):
            # "women standing in a kitchen wearing white": people wear things, kitchens do not
            person = next((st.mentions[d] for d in range(v.i - 1, -1, -1) if d in st.mentions
                           and self._is_person(st.mentions[d])), None)
            subjects = [person] if person is not None else subjects
        if not subjects:
            if v.lemma in SEE_VERBS:
                self._seen_things(st, v)
            return
        for subject in subjects:
            self._predicate_for(st, v, self.entity(subject))

    def _seen_things(self, st: State, v: Tok) -> None:
        """ "In the background we can see trees": the things seen take the verb's place phrases."""
        toks = st.toks
        objects = [eid for c in v.children if toks[c].dep == "dobj" and c in st.mentions for eid in self._group(st, c)]
        for c in v.children:
            if toks[c].dep == "prep" or c in st.phrase_end:
                pred, targets = self._prep_target(st, toks[c])
                if pred in lx.LOCATING:
                    for eid in objects:
                        for obj in targets:
                            self.add_relation(eid, pred, obj, "spatial", st.frames)

    def _predicate_for(self, st: State, v: Tok, ent: Entity) -> None:
        """What verb ``v`` says about ``ent``: change, state, motion, action or place."""
        toks = st.toks
        frames = st.frames
        mark = st.marks.get(v.i, "")
        if mark.startswith("change:"):
            before, after = mark[len("change:"):].split("|")
            self._change(ent, before, after, frames)
            self._locate(st, v, ent, frames)
            return
        if v.pos == "ADJ":
            self._complement(st, v, ent, frames)
            return
        lemma = v.lemma
        objects = [c for c in v.children if toks[c].dep in ("dobj", "attr", "oprd") and c in st.mentions]
        preps = [c for c in v.children if toks[c].dep in ("prep", "agent", "dative") or c in st.phrase_end]
        linking = lemma in lx.LINKING_VERBS and any(toks[c].dep in ("acomp", "oprd") for c in v.children)
        if lemma == "be" or (v.pos == "AUX" and not objects) or linking:  # "looks sad" reads as "is sad"
            self._copula(st, v, ent, frames)
            return
        if lemma in SEE_VERBS and lemma not in lx.POSSESSION_VERBS:
            return
        if lemma in ("look", "seem", "appear"):  # "it looks like a race car": what it resembles
            for c in preps:
                pred, targets = self._prep_target(st, toks[c])
                if pred == "like":
                    for t in targets:
                        if self.entity(t).kind == "object":
                            self.add_attribute(ent, "type", self.entity(t).name)
            return
        # "apples growing on a tree" is where they grow, not a change of size
        grows_somewhere = any(
            toks[c].lower in ("on", "in", "from", "inside", "out", "into")
            and any(self.entity(e).kind == "object" for e in self._prep_target(st, toks[c])[1]) for c in preps)
        words = {toks[c].lower for c in v.children}
        motion = None
        if (lemma in lx.GROW_VERBS and not grows_somewhere) or (lemma == "get" and words & lx.BIGGER):
            self._grow(ent, "grow", frames)
            motion = "grow"
        elif (lemma in lx.SHRINK_VERBS and not grows_somewhere) or (lemma == "get" and words & lx.SMALLER):
            self._grow(ent, "shrink", frames)
            motion = "shrink"
        elif self._is_still(st, v):
            motion = lemma if lemma in lx.STILL_VERBS else "stay still"
        elif mark:
            motion = f"{lemma} {mark}"
        if motion is not None:
            self.add_relation(ent.id, motion, None, "action", frames)
            self._locate(st, v, ent, frames)
            return
        if lemma in ("wear", "dress") and self._wears_color(st, v, ent, frames):
            return
        if lemma in ("call", "name", "title", "label") and v.tag == "VBN":  # "a bakery called Sweet Rolls"
            words = [toks[k].text for c in v.children if toks[c].dep in ("oprd", "xcomp", "dobj", "attr", "npadvmod")
                     for k in st.parse.subtree(c)]
            if words:
                self.add_attribute(ent, "name", " ".join(words))
                st.consumed.update(k for c in v.children for k in st.parse.subtree(c))
            return
        if lemma in lx.POSSESSION_VERBS:
            for c in objects:
                for part in self._group(st, c):
                    self._attach(part, ent.id)
            return
        if lemma in MADE_VERBS and (v.tag == "VBN" or v.dep in ("acl", "relcl")):
            self._made_of_material(st, v, ent)
            return
        particle = " ".join(toks[c].lower for c in v.children if toks[c].dep == "prt")
        verb = f"{lemma} {particle}".strip()
        # "leaning forward", "reaching straight up": the adverbs after the verb say how
        manner = [toks[c].lower for c in v.children if toks[c].dep == "advmod" and c > v.i and c not in st.consumed
                  and toks[c].pos == "ADV" and toks[c].lower not in FILLER_ADVERBS
                  and toks[c].lower not in lx.STILL_ADJECTIVES]
        for c in v.children:  # "leaning toward the right", "turned to their left"
            p = toks[c]
            objs = [toks[d] for d in p.children if toks[d].dep == "pobj"]
            if p.dep == "prep" and c > v.i and c not in st.consumed and len(objs) == 1 \
                    and (objs[0].lower in lx.DIRECTIONS or objs[0].lower in ("side", "sides")) \
                    and not any(toks[d].lower == "of" for d in objs[0].children):
                manner += [p.lower, objs[0].lower]
        light = lemma in lx.LIGHT_VERBS
        acted = False
        for c in objects:
            if toks[c].dep == "dobj" and not light:
                for obj in self._group(st, c):
                    self.add_relation(ent.id, verb, obj, "action", frames)
                acted = True
        for c in preps:
            pred, targets = self._prep_target(st, toks[c])
            # "bouncing with a black background": the setting, not something the verb acts on
            targets = [t for t in targets if pred in lx.LOCATING or self.entity(t).kind == "object"]
            if pred is None or not targets:
                continue
            for obj in targets:
                if pred in lx.LOCATING:
                    self.add_relation(ent.id, pred, obj, "spatial", frames)
                elif not light and pred not in ("of", "for", "like", "as", "than"):
                    self.add_relation(ent.id, f"{verb} {pred}", obj, "action", frames)
                    acted = True
                    self.add_relation(ent.id, verb, None, "action", frames)
        motion_verb = self._is_motion_verb(st, v)
        if v.tag == "VBN" and not acted and not objects and v.dep not in ("ROOT", "conj", "advcl") and not motion_verb:
            self._complement(st, v, ent, frames)
            return
        if v.tag == "VBN" and any(toks[c].dep == "auxpass" for c in v.children) and not motion_verb:
            self._complement(st, v, ent, frames)
            return
        if not acted and not light and re.fullmatch(r"[a-z][a-z-]*", lemma):
            self.add_relation(ent.id, " ".join([verb] + manner), None, "action", frames)

    def _locate(self, st: State, v: Tok, ent: Entity, frames: tuple[float, float] | None) -> None:
        """The place phrases of a verb already read as a motion: "shrinking to the right of a triangle"."""
        toks = st.toks
        preps = [c for c in v.children if toks[c].dep == "prep" or c in st.phrase_end]
        for c in v.children:  # "getting smaller over a box": the place hangs off "smaller"
            if toks[c].lower in lx.BIGGER | lx.SMALLER or toks[c].lower in lx.STILL_ADJECTIVES:
                preps += [d for d in toks[c].children if toks[d].dep == "prep" or d in st.phrase_end]
        for c in preps:
            pred, targets = self._prep_target(st, toks[c])
            if targets == [ent.id]:  # the phrase locates the subject against itself: misattached, leave it
                st.used_preps.discard(c)
                continue
            if pred in lx.LOCATING:
                for obj in targets:
                    self.add_relation(ent.id, pred, obj, "spatial", frames)

    def _prep_target(self, st: State, p: Tok) -> tuple[str | None, list[str]]:
        """The predicate a preposition token stands for and the entities it points at."""
        toks = st.toks
        if p.i in st.phrase_end:
            pred = st.phrase_end[p.i][0]
        elif p.i in st.consumed:
            return None, []
        else:
            pred = lx.SPATIAL_PHRASES.get((p.lower,), p.lower)
        for c in p.children:
            if c in st.mentions:
                st.used_preps.add(p.i)
                return pred, self._group(st, c)
        for c in p.children:
            # "beneath a wedge hopping" parsed as "beneath [hopping]" with the wedge its subject
            if toks[c].pos == "VERB":
                subject = next((d for d in toks[c].children if toks[d].dep == "nsubj" and d in st.mentions), None)
                if subject is not None:
                    st.used_preps.add(p.i)
                    return pred, self._group(st, subject)
            # spaCy hangs "of X" under "front" in "in front of X": follow the consumed chain
            if c in st.consumed:
                for d in toks[c].children:
                    if d in st.phrase_end:
                        pred = st.phrase_end[d][0]
                        for e in toks[d].children:
                            if e in st.mentions:
                                st.used_preps.update((p.i, d))
                                return pred, self._group(st, e)
        return pred, []

    def _is_still(self, st: State, v: Tok) -> bool:
        """Whether the verb says its subject does not move ("stays still", "rests", "does not move")."""
        words = {st.toks[c].lower for c in v.children}
        nxt = st.toks[v.i + 1].lower if v.i + 1 < len(st.toks) else ""
        if v.lemma in lx.STAY_VERBS and (words | {nxt}) & (lx.STILL_ADJECTIVES | {"put"}):
            return True
        if v.lemma in lx.STILL_VERBS and not any(st.toks[c].dep == "dobj" for c in v.children):
            return True
        return v.lemma == "move" and any(st.toks[c].dep == "neg" for c in v.children)

    def _copula(self, st: State, v: Tok, ent: Entity, frames: tuple[float, float] | None) -> None:
        """"X is ...": adjectives, states, types and places of the subject."""
        toks = st.toks
        state_words: list[int] = []
        complements: list[Tok] = []
        for c in v.children:
            t = toks[c]
            if t.dep in ("acomp", "oprd") and t.pos in ("ADJ", "VERB", "NOUN"):
                complements.append(t)
            elif t.dep == "attr" and c in st.mentions and st.mentions[c] != ent.id \
                    and not any(toks[d].dep == "expl" for d in v.children):
                other = self.entity(st.mentions[c])
                if other.kind == "object" and ent.kind == "object" and toks[c].lower not in lx.ANAPHORS:
                    self.add_attribute(ent, "type", other.name)
            elif t.dep == "prep" or c in st.phrase_end:
                pred, targets = self._prep_target(st, t)
                if targets and pred in lx.LOCATING:
                    for obj in targets:
                        self.add_relation(ent.id, pred, obj, "spatial", frames)
                elif not targets and pred in ("in", "of") and self._in_color(st, t, ent, frames):
                    continue
                elif not targets and t.lower not in ("of", "for", "like", "than") and not self._about_entity(st, c):
                    state_words.extend(st.parse.subtree(c))
            elif t.dep in ("advmod", "npadvmod") and t.lower not in FILLER_ADVERBS and t.lower != "there":
                state_words.extend(st.parse.subtree(c))
        for t in complements:
            # "is bent" + "forward": one state, "bent forward"
            extra = state_words if len(complements) == 1 and not self._simple(st, t) else []
            self._complement(st, t, ent, frames, extra=extra)
            if extra:
                state_words = []
        if state_words:
            words = [toks[i].lower for i in sorted(set(state_words)) if toks[i].lower not in VALUE_STOPWORDS]
            if words and not set(words) <= lx.STILL_ADJECTIVES:
                self.add_attribute(ent, "state", " ".join(words), frames)
            elif words:
                self.add_relation(ent.id, "stay still", None, "action", frames)

    def _is_person(self, eid: str) -> bool:
        """Whether the entity names a person ("woman", "players", "someone")."""
        return self._keys.get(eid, "").split()[-1:] != [] and self._keys[eid].split()[-1] in lx.PERSON_NOUNS

    def _wears_color(self, st: State, v: Tok, ent: Entity, frames: tuple[float, float] | None) -> bool:
        """ "wearing white", "dressed in red": the colour of the clothes, which become a part of the wearer."""
        toks = st.toks
        words: list[str] = []
        for c in v.children:
            if toks[c].dep in ("dobj", "oprd", "acomp") and c not in st.mentions or (
                    toks[c].dep == "prep" and toks[c].lower == "in"):
                words += [toks[k].lower for k in st.parse.subtree(c) if k != c or toks[c].dep != "prep"]
        colors = [color_word(w) for w in words if w not in COLOR_FILLERS]
        if not colors or not all(colors) or ent.kind != "object":
            return False
        key = f"{ent.id} clothes"
        clothes = self._find(key) or self._new_entity("clothes", key, plural=True)
        clothes.part_of = ent.id
        for color in colors:
            self.add_attribute(clothes, "color", color or "", frames)
        return True

    def _in_color(self, st: State, p: Tok, ent: Entity, frames: tuple[float, float] | None) -> bool:
        """ "in red", "in black and white": colours given with "in"."""
        words = [st.toks[k].lower for k in st.parse.subtree(p.i)][1:]
        content = [w for w in words if w not in COLOR_FILLERS]
        if content and all(color_word(w) or w in lx.COLOR_SHADES for w in content):
            for w in content:
                if color_word(w):
                    self.add_attribute(ent, "color", color_word(w) or w, frames)
            return True
        return False

    def _about_entity(self, st: State, c: int) -> bool:
        """Whether the phrase under token ``c`` names an entity (then it is a relation, not part of a state)
        or the picture itself ("in this image")."""
        for d in st.parse.subtree(c):
            if d != c and (d in st.mentions or st.toks[d].lemma in lx.META_NOUNS):
                return True
        return False

    def _complement(self, st: State, v: Tok, ent: Entity, frames: tuple[float, float] | None,
                    extra: list[int] | None = None) -> None:
        """A predicative adjective or participle, with its "and"-joined siblings: "white and narrow",
        "bent forward off the ground", "brown in color"."""
        toks = st.toks
        if (color_word(v.lower) or (self._simple(st, v) and v.pos == "ADJ")) and not extra:
            self._adjective(st, v, ent, frames)
            for c in v.children:
                if toks[c].dep == "prep" and toks[c].lower == "in":
                    self._in_color(st, toks[c], ent, frames)
            return
        keep: list[int] = [v.i] + list(extra or [])
        for c in v.children:
            t = toks[c]
            if t.dep in SUBJECT_DEPS or t.dep in ("aux", "auxpass", "punct", "cc", "conj", "mark", "neg",
                                                  "advcl", "relcl", "ccomp", "xcomp", "acl", "dobj"):
                continue
            if t.dep == "prep" and t.lower == "in" and self._in_color(st, t, ent, frames):
                continue
            if self._about_entity(st, c):
                continue  # "unhappy at Disneyland": the place becomes a relation of its own
            keep.extend(st.parse.subtree(c))
        words = [toks[i].lower for i in sorted(set(keep)) if toks[i].lower not in VALUE_STOPWORDS
                 and toks[i].pos != "PUNCT"]
        for c in v.children:
            if toks[c].dep == "conj" and toks[c].pos in ("ADJ", "VERB") and c not in st.consumed:
                self._complement(st, toks[c], ent, frames)
        if not words:
            return
        if set(words) <= lx.STILL_ADJECTIVES:
            self.add_relation(ent.id, "stay still", None, "action", frames)
            return
        value = " ".join(words)
        category = lx.attribute_category(value) if len(words) == 1 else "state"
        if category == "material":
            value = lx.MATERIALS[value]
        self.add_attribute(ent, category, value, frames)

    def _simple(self, st: State, t: Tok) -> bool:
        """An adjective with nothing but degree words, "and"-siblings or place phrases of its own."""
        toks = st.toks
        return all(toks[c].dep in ("advmod", "npadvmod") and not toks[c].children and c < t.i
                   or toks[c].dep in ("conj", "cc", "punct") or (toks[c].dep == "prep" and toks[c].lower == "in")
                   or (toks[c].dep == "prep" and self._about_entity(st, c))
                   for c in t.children)

    def _made_of_material(self, st: State, v: Tok, ent: Entity) -> None:
        """"made of wood", "carved from marble": the material."""
        for i in st.parse.subtree(v.i):
            t = st.toks[i]
            if t.pos in NOUN_POS and i > v.i:
                self.add_attribute(ent, "material", lx.MATERIALS.get(t.lower, t.lemma))
                return

    def _change(self, ent: Entity, before: str, after: str, frames: tuple[float, float] | None) -> None:
        """"turns from red to blue": the first value at the start of the span, the second at its end."""
        for value, when in ((before, start_of(frames)), (after, end_of(frames))):
            if not value:
                continue
            if value in lx.BIGGER or value in lx.SMALLER:
                self._grow(ent, "grow" if value in lx.BIGGER else "shrink", frames)
                continue
            words = value.split()
            if lx.is_color_phrase(words):
                for color in (w for w in words if w in lx.COLORS):
                    shade = [words[k - 1] for k, w in enumerate(words) if w == color and k and words[k - 1]
                             in lx.COLOR_SHADES]
                    self.add_attribute(ent, "color", " ".join(shade + [color]), when)
            else:
                self.add_attribute(ent, lx.attribute_category(value), value, when)

    def _grow(self, ent: Entity, how: str, frames: tuple[float, float] | None) -> None:
        """Growth is a size change: small at the start of its span and big at the end (reversed to shrink)."""
        self.add_relation(ent.id, how, None, "action", frames)
        first, last = ("small", "big") if how == "grow" else ("big", "small")
        self.add_attribute(ent, "size", first, start_of(frames))
        self.add_attribute(ent, "size", last, end_of(frames))

    def _noun_prep(self, st: State, p: Tok) -> None:
        """A preposition on a noun: a colour ("in red"), a type ("as a pirate") or a place."""
        if self.entity(st.mentions[p.head]).kind != "object":
            return  # "against a backdrop, a ball over a circle": the backdrop locates nothing
        ent = self.entity(st.mentions[p.head])
        if p.lower == "in" and self._in_color(st, p, ent, st.frames):
            return  # "the text in red"
        if p.lower == "as":  # "a cat as a gangster": what it is shown as
            for c in p.children:
                if c in st.mentions and self.entity(st.mentions[c]).kind == "object":
                    self.add_attribute(ent, "type", self.entity(st.mentions[c]).name)
            return
        pred, targets = self._prep_target(st, p)
        if not targets or pred not in lx.LOCATING:
            return
        for subject in self._group(st, p.head):
            for obj in targets:
                self.add_relation(subject, pred, obj, "spatial", st.frames)

    def _loose_relation(self, st: State, end: int) -> None:
        """A spatial preposition or phrase ("beneath", "left of") no rule used yet: find its two sides by
        walking up the tree from it, or else take the nearest mentions around it."""
        toks = st.toks
        pred, first = st.phrase_end.get(end, (lx.SPATIAL_PHRASES.get((toks[end].lower,), ""), end))
        if pred not in lx.LOCATING:
            return
        targets: list[str] = []
        for c in toks[end].children:
            if c in st.mentions:
                targets = self._group(st, c)
        if not targets:
            nxt = next((j for j in range(end + 1, min(end + 5, len(toks))) if j in st.mentions), None)
            if nxt is None:
                return
            targets = self._group(st, nxt)
        subjects: list[str] = []
        j = first
        for _ in range(8):
            head = toks[j].head
            if head == j:
                break
            j = head
            if j in st.consumed:
                continue
            if j in st.mentions and self.entity(st.mentions[j]).kind == "object":
                subjects = [e for e in self._group(st, j) if e not in targets]
                if subjects:
                    break
            if toks[j].pos in ("VERB", "AUX", "ADJ"):
                subjects = [e for e in self._subjects(st, toks[j]) if e not in targets]
                if subjects:
                    break
        if not subjects:
            prev = self._preceding_object(st, first)
            subjects = [st.mentions[prev]] if prev is not None else []
        for subject in subjects:
            for obj in targets:
                self.add_relation(subject, pred, obj, "spatial", st.frames)
