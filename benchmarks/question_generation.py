"""How many of DSG-1k's human-checked tuples does the rule-based question generator produce?

Data: ``../shared/data/dsg1k/dsg-1k-anns.csv`` relative to the repository root (``--data`` to
point elsewhere): 1,060 prompts with 8,182 gold tuples such as ``attribute - color (rubix cube,
purple)``. It is image-prompt data (no motion, camera or time), and it was the development set of
the generator's rules, so these figures are not a held-out test.

Tuple classes and matching (everything at lemma level, case-insensitive; names lemmatised as noun
phrases; British spellings mapped to American; each gold tuple is matched at most once; predicted
tuples identical but for their time range count once):

* **entity** – gold ``entity - *`` (whole, part): matches a predicted entity when the lemmatised head
  nouns are equal (the last word of the name; for a part "knife's handle", of "handle"; DSG's
  instance suffix "flowers_2" dropped).
* **attribute** – gold ``attribute - *`` and ``other - count``, plus gold ``relation`` tuples with a
  subject and predicate but no object ("relation - action (baby, skateboard)"), which are
  intransitive actions: matches a predicted attribute, count or intransitive action when the
  entities match (head nouns) and the values match. Values match when their content lemmas overlap
  in at least half of the longer one's ("lean left" ~ "lean", "bent forward off ground" ~ "bend
  forward off the ground"); numbers compare as numbers ("==six" = "==6" = "single" for 1) and
  "more than one" is one value (">1", "several", "many", "multiple", "a lot").
* **relation** – gold ``relation - *`` with subject, object and predicate: matches when subject and
  object match (head nouns, same direction) and the predicates match like values after mapping
  spatial synonyms to one word (on top of/atop/onto → on, beneath/below/underneath → under,
  inside/within/into → in, over → above, beside/next to/by/close to → near, ahead of → in front of,
  to the left of/left to → left, likewise right).
* **across forms** – the same fact written as an attribute on one side and a relation on the other
  ("houses | in the distance" against "houses, distance, in"): after same-form matching, a gold
  attribute and a predicted relation (or the reverse) match when the subjects match and the
  attribute's value matches the relation's predicate plus object. Recall counts the hit in the gold
  tuple's class, precision in the predicted tuple's.

Matching runs in three passes over all predictions: equal values, matching values, across forms.

Not scored: ``global`` tuples (style and medium: "comic book art", "4k") and ``other - text
rendering``; their number is printed. Precision counts every predicted entity, attribute (incl.
camera, background, style and quoted-text facts) and relation tuple.

Prints per-class recall and precision, overall precision/recall/F1 over the three classes, the
throughput in prompts per second (one batched call, parser loaded beforehand), and as the last line
one JSON object with the same numbers.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dsg1k"
CSV_NAME = "dsg-1k-anns.csv"
CLASSES = ("entity", "attribute", "relation")
STOP = frozenset({"a", "an", "the", "'s", "'", "of", "be", "is", "are", "to", "and", ",", "-", "very"})
SPATIAL_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("to the left of", "left"), ("on the left of", "left"), ("left of", "left"), ("left to", "left"),
    ("to the right of", "right"), ("on the right of", "right"), ("right of", "right"), ("right to", "right"),
    ("on top of", "on"), ("in front of", "front"), ("ahead of", "front"), ("next to", "near"),
    ("close to", "near"), ("in back of", "behind"),
)
SPELLING = {"colour": "color", "colourful": "colorful", "coloured": "colored", "grey": "gray", "centre": "center"}
WORD_SYNONYMS = {
    "atop": "on", "onto": "on", "upon": "on", "beneath": "under", "below": "under", "underneath": "under",
    "inside": "in", "within": "in", "into": "in", "over": "above", "beside": "near", "by": "near",
    "besides": "near", "nearby": "near", "alongside": "near",
}
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "twenty": 20,
    "single": 1,
}
VAGUE_PLURAL = frozenset({">1", "several", "many", "multiple", "numerous", "a lot", "lots", "plenty"})
TUPLE_RE = re.compile(r"^\s*(\w+)\s*-\s*(.*?)\s*\((.*)\)\s*$")


def load_gold(path: Path) -> OrderedDict[str, dict]:
    """item id → {"prompt": text, "tuples": [(class, args...)], "unscored": n}."""
    items: OrderedDict[str, dict] = OrderedDict()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            item = items.setdefault(row["item_id"], {"prompt": row["text"], "tuples": [], "unscored": 0})
            parsed = classify_gold(row["tuple"])
            if parsed is None:
                item["unscored"] += 1
            else:
                item["tuples"].append(parsed)
    return items


def classify_gold(text: str) -> tuple[str, ...] | None:
    match = TUPLE_RE.match(text)
    if match is None:
        return None
    head, detail, raw = match.group(1).lower(), match.group(2).lower(), match.group(3)
    args = [a.strip() for a in raw.split(", ")]
    if head == "entity" and args:
        return ("entity", args[-1])
    if head == "attribute" and len(args) >= 2:
        return ("attribute", args[0], ", ".join(args[1:]))
    if head == "other" and detail == "count" and len(args) >= 2:
        return ("attribute", args[0], args[1])
    if head == "relation" and len(args) == 2:
        return ("attribute", args[0], args[1])
    if head == "relation" and len(args) >= 3:
        return ("relation", args[0], args[1], ", ".join(args[2:]))
    return None


def predicted_tuples(questions) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for q in questions:
        t = q.tuple
        if t[0] == "entity":
            item = ("entity", t[2])
        elif t[0] == "attribute" or (t[0] == "other" and t[1] == "count"):
            item = ("attribute", t[2], t[3])
        elif t[0] == "relation":
            item = ("relation", t[2], t[3], t[4])
        else:
            continue
        if item not in out:
            out.append(item)
    return out


class Lemmas:
    """Lemmatised word lists of short strings, computed in one spaCy pass and cached."""

    def __init__(self, nlp) -> None:
        self.nlp = nlp
        self.cache: dict[str, tuple[str, ...]] = {}

    def prepare(self, strings) -> None:
        todo = sorted({s for s in strings if s not in self.cache})
        for s, doc in zip(todo, self.nlp.pipe(todo, batch_size=256), strict=True):
            self.cache[s] = tuple(t.lemma_.lower() for t in doc if not t.is_punct or t.text in ("-",))

    def noun(self, name: str) -> tuple[str, ...]:
        """Lemmas of a name read as a noun phrase ("leaves" → leaf, not the verb leave)."""
        return self("the " + name)[1:]

    def __call__(self, s: str) -> tuple[str, ...]:
        if s not in self.cache:
            self.prepare([s])
        return self.cache[s]


def entity_head(name: str, lemmas: Lemmas) -> str:
    name = re.sub(r"_\d+$", "", name.split("'s ")[-1].split("' ")[-1])  # "flowers_2": DSG's second flowers
    words = [w for w in lemmas.noun(name) if w not in STOP]
    return SPELLING.get(words[-1], words[-1]) if words else name.lower()


def content(value: str, lemmas: Lemmas, spatial: bool = False) -> frozenset[str]:
    text = value.lower().strip()
    if text.startswith("=="):
        text = text[2:].strip()
    if text in VAGUE_PLURAL:  # ">1", "several", "many", "multiple": more than one
        return frozenset({">1"})
    if text in NUMBER_WORDS or text.isdigit():
        return frozenset({str(NUMBER_WORDS.get(text, text))})
    if spatial:
        for phrase, canon in SPATIAL_SYNONYMS:
            text = re.sub(rf"\b{re.escape(phrase)}\b", canon, text)
    words = [SPELLING.get(w, w) for w in lemmas(text) if w not in STOP]
    words = [WORD_SYNONYMS.get(w, w) if spatial else w for w in words]
    return frozenset(str(NUMBER_WORDS[w]) if w in NUMBER_WORDS else w for w in words)


def values_match(a: frozenset[str], b: frozenset[str]) -> bool:
    shared = len(a & b)
    return shared >= 1 and 2 * shared >= max(len(a), len(b))


def match_tuples(gold: list[tuple[str, ...]], pred: list[tuple[str, ...]], lemmas: Lemmas) -> dict[int, int]:
    """Greedy one-to-one matching: predicted index → matched gold index.

    Three passes, each over all predictions: same class with equal values, same class with matching
    values, then across forms (an attribute "in the air" against a relation "in (air)").
    """
    def key(t: tuple[str, ...]) -> tuple:
        if t[0] == "entity":
            return (entity_head(t[1], lemmas),)
        if t[0] == "attribute":
            return (entity_head(t[1], lemmas), content(t[2], lemmas))
        return (entity_head(t[1], lemmas), entity_head(t[2], lemmas), content(t[3], lemmas, spatial=True))

    def flat(t: tuple[str, ...], k: tuple) -> tuple:
        """Any tuple as (subject head, value words): a relation's value is its predicate and object."""
        if t[0] == "relation":
            return (k[0], k[2] | {k[1]})
        return (k[0], content(t[2], lemmas, spatial=True))

    pairs: dict[int, int] = {}
    used: set[int] = set()
    gold_keys = [key(g) for g in gold]
    pred_keys = [key(p) for p in pred]
    for stage in ("exact", "match", "across"):
        for pi, (p, pk) in enumerate(zip(pred, pred_keys, strict=True)):
            if pi in pairs:
                continue
            for gi, (g, gk) in enumerate(zip(gold, gold_keys, strict=True)):
                if gi in used:
                    continue
                if stage == "across":
                    if {g[0], p[0]} != {"attribute", "relation"}:
                        continue
                    fg, fp = flat(g, gk), flat(p, pk)
                    ok = fg[0] == fp[0] and values_match(fg[1], fp[1])
                elif g[0] != p[0]:
                    continue
                elif p[0] == "entity":
                    ok = stage == "exact" and gk == pk
                else:
                    ok = gk[:-1] == pk[:-1] and (gk[-1] == pk[-1] if stage == "exact"
                                                 else values_match(gk[-1], pk[-1]))
                if ok:
                    used.add(gi)
                    pairs[pi] = gi
                    break
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"folder holding {CSV_NAME}")
    parser.add_argument("--parser", choices=("spacy", "lexicon"), default="spacy",
                        help="the generator's parser: spaCy's small English pipeline or the model-free lexicon parser")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N prompts (0: all)")
    parser.add_argument("--dump", type=Path, default=None, help="write per-prompt gold and predicted tuples here")
    args = parser.parse_args(argv)

    csv_path = args.data / CSV_NAME
    if not csv_path.is_file():
        print(f"DSG-1k annotations not found at {csv_path}: pass --data FOLDER holding {CSV_NAME} "
              "(from the DSG project, j-min/DSG, dsg/data/dsg-1k-anns.csv)", file=sys.stderr)
        return 2
    try:
        from t2v.eval.questions import RuleBasedQuestionGenerator
        from t2v.eval.spacy_parser import load_spacy

        nlp = load_spacy()
    except ImportError as err:
        print(f"this benchmark needs spaCy for lemmatising tuples: {err}", file=sys.stderr)
        return 2

    items = load_gold(csv_path)
    if args.limit > 0:
        items = OrderedDict(list(items.items())[: args.limit])
    prompts = [item["prompt"] for item in items.values()]
    generator = RuleBasedQuestionGenerator(parser=args.parser)
    generator.generate_batch(prompts[:8])  # load and warm the parser
    start = time.perf_counter()
    results = generator.generate_batch(prompts)
    elapsed = time.perf_counter() - start

    lemmas = Lemmas(nlp)
    all_pred = [predicted_tuples(qs) for _, qs in results]
    strings = [s for item in items.values() for t in item["tuples"] for s in t[1:]]
    strings += [s for pred in all_pred for t in pred for s in t[1:]]
    names = [re.sub(r"_\d+$", "", s.split("'s ")[-1].split("' ")[-1]) for s in strings]
    lemmas.prepare(strings + ["the " + n for n in names])

    gold_n = dict.fromkeys(CLASSES, 0)
    pred_n = dict.fromkeys(CLASSES, 0)
    hit_gold = dict.fromkeys(CLASSES, 0)  # matched gold tuples by gold class (recall)
    hit_pred = dict.fromkeys(CLASSES, 0)  # matched predictions by predicted class (precision)
    unscored = 0
    dump = []
    for item, pred in zip(items.values(), all_pred, strict=True):
        gold = item["tuples"]
        unscored += item["unscored"]
        for c in CLASSES:
            gold_n[c] += sum(1 for g in gold if g[0] == c)
            pred_n[c] += sum(1 for p in pred if p[0] == c)
        pairs = match_tuples(gold, pred, lemmas)
        for pi, gi in pairs.items():
            hit_gold[gold[gi][0]] += 1
            hit_pred[pred[pi][0]] += 1
        if args.dump:
            dump.append({"prompt": item["prompt"], "gold": gold, "pred": pred,
                         "matched_gold": sorted(pairs.values()), "matched_pred": sorted(pairs)})
    if args.dump:
        args.dump.write_text(json.dumps(dump, indent=1), encoding="utf-8")

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 0.0

    report: dict[str, object] = {"prompts": len(prompts), "parser": args.parser}
    print(f"DSG-1k question generation ({len(prompts)} prompts, parser: {args.parser}; "
          f"development set of the rules)")
    for c in CLASSES:
        r, p = ratio(hit_gold[c], gold_n[c]), ratio(hit_pred[c], pred_n[c])
        report[f"{c}_recall"], report[f"{c}_precision"] = r, p
        print(f"  {c:<10} recall {r:.3f} ({hit_gold[c]}/{gold_n[c]})   "
              f"precision {p:.3f} ({hit_pred[c]}/{pred_n[c]})")
    hits, gold_total, pred_total = sum(hit_gold.values()), sum(gold_n.values()), sum(pred_n.values())
    precision, recall = ratio(hits, pred_total), ratio(hits, gold_total)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
    report.update({"precision": precision, "recall": recall, "f1": f1,
                   "prompts_per_s": round(len(prompts) / elapsed, 1), "unscored_gold": unscored})
    print(f"  overall    precision {precision:.3f}   recall {recall:.3f}   F1 {f1:.3f}")
    print(f"  not scored: {unscored} gold tuples (global style tags, text rendering)")
    print(f"  speed      {len(prompts) / elapsed:.0f} prompts/s (batched, {elapsed:.2f} s)")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
