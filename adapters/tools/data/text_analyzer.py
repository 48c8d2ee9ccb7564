"""`text-analyzer`: readability, word frequencies, sentences and keywords of English text.

- Words are runs of letters (apostrophes inside kept: "don't"), compared lower-cased.
- Sentences end at '.', '!' or '?' (runs of them, closing quotes or brackets included) followed
  by a blank or the end; a full stop after a common abbreviation (Mr., e.g., etc.) or a single
  capital (J. Smith) does not end one.
- Syllables, a heuristic: count the groups of vowels (a e i o u y); a final silent 'e' does not
  count (but a final consonant + 'le' does: "ta-ble"), nor a final 'es'/'ed' after most
  consonants ("makes", "jumped"); every word has at least one.
- Flesch reading ease = 206.835 - 1.015 * words/sentences - 84.6 * syllables/words;
  Flesch-Kincaid grade = 0.39 * words/sentences + 11.8 * syllables/words - 15.59.
- Keywords: RAKE (candidate phrases are the runs of words between stopwords and punctuation;
  a word scores degree / frequency, a phrase the sum of its words), or plain frequency of
  non-stopwords."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from llmspell.runtime import Component, Result
from llmspell.runtime.sandbox import MAX_READ

from .._common import PURE, answer, refuse, text_input, tool
from ..sandbox.files import Roots

NAME = "text-analyzer"
_STOPWORDS = """a about above after again against all almost also am an and any are aren't as at be
    because been before being below between both but by can can't cannot could couldn't did
    didn't do does doesn't doing don't down during each either else ever every few for from
    further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
    herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it it's
    its itself just let's may me might more most much must mustn't my myself neither no nor not
    of off often on once only or other ought our ours ourselves out over own perhaps quite
    rather same shall shan't she she'd she'll she's should shouldn't since so some such than
    that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those though through thus to too under until up upon us very was
    wasn't we we'd we'll we're we've were weren't what what's when when's where where's whether
    which while who who's whom whose why why's will with within without won't would wouldn't
    yet you you'd you'll you're you've your yours yourself yourselves"""
STOPWORDS = frozenset(_STOPWORDS.split())
_ABBREVIATIONS = "mr mrs ms dr prof sr jr st vs etc e.g i.e al fig no approx inc ltd co dept est"
ABBREVIATIONS = frozenset(_ABBREVIATIONS.split())
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?]+[\"'’”)\]]*(?=\s|$)")
_VOWELS = re.compile(r"[aeiouy]+")
_PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”—–]|\s-\s|\n\s*\n")


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def sentences(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if match.group(0) == "." and (last in ABBREVIATIONS or re.fullmatch(r"[a-z]", last)):
            continue
        piece = text[start : match.end()].strip()
        if piece:
            out.append(piece)
        start = match.end()
    rest = text[start:].strip()
    if rest and words(rest):
        out.append(rest)
    return [s for s in out if words(s)]


def syllables(word: str) -> int:
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    count = len(_VOWELS.findall(w))
    if len(w) > 2 and w.endswith("e") and not w.endswith(("le", "ee", "ye")):
        count -= 1  # silent final e: "make"
    elif len(w) > 3 and w.endswith("le") and w[-3] in "aeiouy":
        count -= 1  # "whale", not "table"
    elif len(w) > 3 and w.endswith(("es", "ed")) and w[-3] not in "aeiouytdscgxz":
        count -= 1  # "makes", "jumped", but "wanted", "boxes"
    return max(1, count)


def readability(text: str) -> dict[str, Any]:
    ws, ss = words(text), sentences(text)
    if not ws:
        raise refuse(NAME, "the text has no words")
    n_words, n_sentences = len(ws), max(1, len(ss))
    n_syllables = sum(syllables(w) for w in ws)
    wps, spw = n_words / n_sentences, n_syllables / n_words
    return {
        "words": n_words,
        "sentences": n_sentences,
        "syllables": n_syllables,
        "words_per_sentence": round(wps, 2),
        "syllables_per_word": round(spw, 3),
        "flesch_reading_ease": round(206.835 - 1.015 * wps - 84.6 * spw, 2),
        "flesch_kincaid_grade": round(0.39 * wps + 11.8 * spw - 15.59, 2),
        "complex_words": sum(1 for w in ws if syllables(w) >= 3),
    }


def frequencies(text: str, top: int, skip_stopwords: bool, min_length: int) -> dict[str, Any]:
    ws = words(text)
    kept = [w for w in ws if len(w) >= min_length and not (skip_stopwords and w in STOPWORDS)]
    counts = Counter(kept)
    return {
        "total_words": len(ws),
        "unique_words": len(set(ws)),
        "counted": len(kept),
        "words": [{"word": w, "count": n} for w, n in counts.most_common(top)],
    }


def rake(text: str, top: int) -> list[dict[str, Any]]:
    phrases: list[list[str]] = []
    for chunk in _PHRASE_BREAK.split(text):
        current: list[str] = []
        for w in words(chunk):
            if w in STOPWORDS:
                if current:
                    phrases.append(current)
                current = []
            else:
                current.append(w)
        if current:
            phrases.append(current)
    frequency: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for phrase in phrases:
        for w in phrase:
            frequency[w] += 1
            degree[w] += len(phrase)
    scored: dict[str, float] = {}
    for phrase in phrases:
        key = " ".join(phrase)
        scored[key] = sum(degree[w] / frequency[w] for w in phrase)
    counts = Counter(" ".join(p) for p in phrases)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], -counts[kv[0]], kv[0]))
    return [{"phrase": p, "score": round(s, 3), "count": counts[p]} for p, s in ranked[:top]]


def analyze(args: dict[str, Any], text: str) -> Result:
    op = args["operation"]
    top = args.get("top", 10)
    if op == "readability":
        r = readability(text)
        return answer(
            f"Flesch reading ease {r['flesch_reading_ease']}, "
            f"Flesch-Kincaid grade {r['flesch_kincaid_grade']} "
            f"({r['words']} words, {r['sentences']} sentences, {r['syllables']} syllables)",
            r,
        )
    if op == "frequencies":
        f = frequencies(
            text, top, bool(args.get("exclude_stopwords", False)), args.get("min_length", 1)
        )
        return answer("\n".join(f"{e['word']}: {e['count']}" for e in f["words"]), f)
    if op == "sentences":
        ss = sentences(text)
        lengths = [len(words(s)) for s in ss]
        data = {
            "count": len(ss),
            "average_words": round(sum(lengths) / len(ss), 2) if ss else 0,
            "longest_words": max(lengths, default=0),
            "shortest_words": min(lengths, default=0),
            "sentences": ss,
        }
        return answer(f"{len(ss)} sentence(s), {data['average_words']} words on average", data)
    if op == "keywords":
        if args.get("method", "rake") == "rake":
            found = rake(text, top)
            return answer("\n".join(k["phrase"] for k in found), {"keywords": found})
        f = frequencies(text, top, True, args.get("min_length", 3))
        found = [
            {"phrase": e["word"], "score": e["count"], "count": e["count"]} for e in f["words"]
        ]
        return answer("\n".join(k["phrase"] for k in found), {"keywords": found})
    raise refuse(NAME, f"unknown operation {op!r}")


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        import asyncio

        text = await text_input(args, roots, NAME, "text")
        return await asyncio.to_thread(analyze, args, text)

    return tool(
        NAME,
        "Analyzes English text: readability (Flesch reading ease, Flesch-Kincaid grade, with "
        "word, sentence and syllable counts), frequencies (top words, stopwords optionally "
        "left out), sentences (split, count, average length) and keywords (RAKE phrases or "
        "frequent non-stopwords). The text comes inline or from a file inside the roots.",
        {
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_READ},
            "path": {"type": "string", "minLength": 1, "description": "A text file in the roots"},
            "top": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            "exclude_stopwords": {"type": "boolean", "default": False},
            "min_length": {"type": "integer", "minimum": 1, "maximum": 50},
            "method": {"enum": ["rake", "frequency"], "default": "rake"},
        },
        handle,
        operations={"readability": [], "frequencies": [], "sentences": [], "keywords": []},
        annotations=PURE,
    )
