"""Reference-free quality estimation: which translations an editor should read first.

Each paragraph pair (source, machine translation) is checked by signals that need no extra model:

- `truncated`: the output stops mid-sentence while the source ends a sentence (cut off).
- `dropped_sentence`: fewer output sentences than source sentences, with an output shorter than usual; or as
  many, another split in two, where the sentence lengths align far better without one source sentence.
- `length`: the character ratio far from the language pair's usual ratio (too short or too long).
- `untranslated`: an output sentence in the source language (py3langid between the two languages) or
  made of the source sentence's words.
- `repetition`: a run of words repeated back to back, or a phrase recurring more often than in the source.
- `numbers`: the digits of each source number must appear in the output (12-hour times, magnitude and
  number words count).
- `names`: capitalised words inside source sentences, URLs, e-mail addresses and handles must survive
  (inflection, transliteration and German exonyms from Babel's locale data allowed); a lost word counts
  as a name when the target language uses it about as often as English does (wordfreq) and, if an English
  dictionary writes it in lower case, nearly as often; a name-like word in the output that the source
  lacks (a name put in its place, or an English word German hardly uses: Valley, Blake) adds to the signal:
  a name lost with another added is a change.
- `negation`: fewer negation cues in the output (nicht, kein, nie, …) than in the source (not, n't, no, …).
- `glossary`: the required target form of each glossary term found in the source.
- `round_trip` (only with a reverse model): low chrF between the source and the output translated back.

Each signal gives a severity in [0, 1]; a signal at or above `FLAG_THRESHOLD` (0.5) becomes a flag with
its name, a German explanation for editors and the words concerned. The **paragraph risk** is the
noisy-or of all severities, 1 − Π(1 − sᵢ), kept below the threshold while no signal reaches it — so a
paragraph is risky (risk ≥ 0.5) exactly when it has a flag, and among flagged or unflagged paragraphs more
and stronger signals rank higher. The **article risk** is the highest paragraph risk; an article is
risky when any paragraph is.
"""

from __future__ import annotations

import html
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from anyascii import anyascii

from presseschau.language_id import restricted_identifier
from presseschau.text import ascii_digits
from presseschau.translate.segment import split_sentences, split_sentences_quickly
from presseschau.translate.typography import missing_numbers

FLAG_THRESHOLD = 0.5
DEFAULT_RISK_THRESHOLD = 0.5

# German explanations shown to editors, by flag name.
EXPLANATIONS = {
    "truncated": "Die Übersetzung bricht ab: Das Ende des Originals fehlt.",
    "dropped_sentence": "Ein Satz des Originals scheint in der Übersetzung zu fehlen.",
    "length": "Die Übersetzung ist für das Original ungewöhnlich kurz oder lang.",
    "untranslated": "Ein Satz ist nicht übersetzt, er steht noch in der Ausgangssprache.",
    "repetition": "Die Übersetzung wiederholt sich (Wiederholungsschleife der Maschine).",
    "numbers": "Eine Zahl des Originals fehlt oder ist verändert.",
    "names": "Ein Name oder eine Adresse des Originals fehlt oder ist verändert.",
    "negation": "Eine Verneinung des Originals fehlt in der Übersetzung.",
    "glossary": "Ein Glossarbegriff ist nicht wie vorgeschrieben übersetzt.",
    "round_trip": "Die Rückübersetzung weicht stark vom Original ab.",
}

_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z]+(?![\w'’-])")
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
# A sentence end, then perhaps closing quotes and one stray character (corpora have "… ausgezeichnet.x").
_TERMINAL = re.compile(r"[.!?…:;][\"'”“’‘»«)\]]*\s*\w?\s*$|[\"”“»«)]\s*$")
_URLISH = re.compile(r"https?://\S+|www\.\S+|\b[\w.+-]+@[\w-]+\.[\w.]+\b|(?<!\w)[@#]\w{2,}")

# The language pair's usual output length in letters per source letter (German: median of FLORES dev's
# tuning part, references and Google, 1.18; Portuguese: a common estimate).
LENGTH_RATIOS = {("en", "de"): 1.18, ("en", "pt"): 1.08}

_EN_NEGATION = re.compile(
    r"\b(?:not|no(?!\.\s?\d)|never|nobody|nothing|none|neither|nor|nowhere|cannot|without|unable)\b|n't\b",
    re.IGNORECASE,
)
_TARGET_NEGATION = {
    "de": re.compile(
        r"\b(?:nicht|nichts|kein|keine|keinen|keinem|keiner|keines|nie|niemals|niemand|niemanden|niemandem|"
        r"nirgends|nirgendwo|weder|ohne|keinerlei|keineswegs|nein)\b",
        re.IGNORECASE,
    ),
    "pt": re.compile(r"\b(?:não|nunca|nada|nenhum|nenhuma|ninguém|nem|sem|jamais)\b", re.IGNORECASE),
}

_EN_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "half": 2, "once": 1, "twice": 2, "single": 1,
}  # fmt: skip
_TARGET_NUMBER_WORDS = {
    "de": {
        "null": 0, "eins": 1, "zwei": 2,
        "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11,
        "zwölf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "sechzehn": 16, "siebzehn": 17,
        "achtzehn": 18, "neunzehn": 19, "zwanzig": 20, "dreißig": 30, "vierzig": 40, "fünfzig": 50,
        "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90, "hundert": 100, "tausend": 1000,
        "dutzend": 12, "erste": 1, "ersten": 1, "zweite": 2, "zweiten": 2, "dritte": 3, "dritten": 3,
        "halb": 2, "halbe": 2, "hälfte": 2, "einmal": 1, "zweimal": 2, "doppelt": 2,
    },
    "pt": {
        "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7,
        "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "vinte": 20, "trinta": 30, "cem": 100,
        "mil": 1000, "primeiro": 1, "segundo": 2, "terceiro": 3, "metade": 2,
    },
}  # fmt: skip

# English names that German writes differently (exonyms), folded to ASCII and lower case, with the
# German word start that must appear instead.
_EXONYMS = {
    "germany": "deutsch", "german": "deutsch", "austria": "österreich", "switzerland": "schweiz", "swiss": "schweiz",
    "france": "fran", "french": "französ", "spain": "spanien", "spanish": "spani", "italy": "italien",
    "italian": "italien", "greece": "griechen", "greek": "griech", "turkey": "türk", "turkish": "türk",
    "netherlands": "niederl", "dutch": "niederl", "holland": "holland", "belgium": "belgien", "poland": "polen",
    "polish": "polni", "russia": "russ", "russian": "russ", "ukraine": "ukrain", "ukrainian": "ukrain",
    "china": "chin", "chinese": "chin", "japan": "japan", "japanese": "japan", "korea": "korea",
    "korean": "korea", "india": "indi", "indian": "indi", "america": "amerika", "american": "amerikan",
    "americans": "amerikan", "u.s.": "us", "us": "us", "usa": "usa", "united": "vereinigt", "states": "staaten",
    "kingdom": "königreich", "britain": "brit", "british": "brit", "england": "england", "english": "engl",
    "scotland": "schottland", "scottish": "schott", "ireland": "irland", "irish": "ir", "wales": "wales",
    "europe": "europ", "european": "europ", "africa": "afrika", "african": "afrikan", "asia": "asien",
    "asian": "asiat", "australia": "australien", "mexico": "mexiko", "mexican": "mexikan", "canada": "kanada",
    "canadian": "kanad", "brazil": "brasilien", "egypt": "ägypt", "egyptian": "ägypt", "israel": "israel",
    "syria": "syrien", "iraq": "irak", "iran": "iran", "saudi": "saudi", "arabia": "arabien", "arab": "arab",
    "sweden": "schwed", "swedish": "schwed", "norway": "norweg", "norwegian": "norweg", "denmark": "dänemark",
    "danish": "dän", "finland": "finnland", "finnish": "finn", "czech": "tschech", "hungary": "ungarn",
    "hungarian": "ungar", "romania": "rumän", "bulgaria": "bulgar", "croatia": "kroat", "serbia": "serb",
    "portugal": "portug", "portuguese": "portug", "moscow": "moskau", "munich": "münchen", "vienna": "wien",
    "cologne": "köln", "rome": "rom", "venice": "venedig", "warsaw": "warschau", "prague": "prag",
    "kyiv": "kiew", "kiev": "kiew", "lisbon": "lissabon", "brussels": "brüssel", "copenhagen": "kopenhagen",
    "athens": "athen", "beijing": "peking", "antarctica": "antarktis", "antarctic": "antarkt", "arctic": "arkt",
    "pacific": "pazifi", "atlantic": "atlanti", "mediterranean": "mittelmeer", "caribbean": "karibi",
    "monday": "montag", "tuesday": "dienstag", "wednesday": "mittwoch", "thursday": "donnerstag",
    "friday": "freitag", "saturday": "samstag", "sunday": "sonntag", "january": "januar", "february": "februar",
    "march": "märz", "may": "mai", "june": "juni", "july": "juli", "october": "oktober", "december": "dezember",
    "christian": "christ", "christians": "christ", "christmas": "weihnacht", "easter": "ostern", "god": "gott",
    "muslim": "muslim", "islamic": "islam", "catholic": "kathol", "jewish": "jüd", "jews": "jude",
    "internet": "internet", "earth": "erde", "moon": "mond", "sun": "sonne", "mars": "mars",
    "olympic": "olymp", "olympics": "olymp", "roman": "röm", "romans": "röm", "latin": "latein",
    "hague": "haag", "geneva": "genf", "milan": "mailand", "naples": "neapel", "florence": "florenz",
    "belgrade": "belgrad", "bucharest": "bukarest", "nuremberg": "nürnberg", "zurich": "zürich",
    "lucerne": "luzern", "gothenburg": "göteborg", "antwerp": "antwerpen", "bruges": "brügge", "ghent": "gent",
    "liege": "lüttich", "azov": "asow", "crimea": "krim", "caucasus": "kaukasus", "siberia": "sibirien",
    "baltic": "balt", "danube": "donau", "rhine": "rhein", "alps": "alpen", "tyrol": "tirol", "bavaria": "bayern",
    "saxony": "sachsen", "prussia": "preuß", "bohemia": "böhm", "silesia": "schlesi", "corsica": "korsika",
    "sicily": "sizilien", "sardinia": "sardinien", "crete": "kreta", "cyprus": "zypern", "soviet": "sowjet",
    "aegean": "ägä", "punjab": "pandschab", "punjabi": "pandschab", "khrushchev": "chruscht",
    "krushchev": "chruscht", "gorbachev": "gorbatschow", "yeltsin": "jelzin", "chechnya": "tschetschen",
}  # fmt: skip


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Capitalised English words that are rarely names (titles, pronouns, words of headings).
_NOT_NAMES = _word_set(
    "i mr mrs ms dr prof sir st president minister prime king queen prince princess pope governor senator "
    "general captain chief the a an and or but of in on at to for with by from as is it he she they we you "
    "his her their our my its this that these those there here when where what who why how however "
    "north south east west northern southern eastern western central new old great national international "
    "university college school city state county republic party department office court house parliament "
    "government ministry council army navy air force police company ceo road street river lake mount island "
    "bay sea ocean park center centre museum hospital church group team club league cup world war day strait "
    "metropolitan "
    # Words of institutions, events and places that German translates (Royal Navy → Königliche Marine).
    "union kingdom empire dynasty revolution treaty act bill law article amendment olympic olympics games "
    "championship open tour series final finals year week month century age era award prize grand prix "
    "cathedral palace castle tower bridge square station airport port harbour harbor coast valley mountain "
    "mountains islands desert forest zoo gallery library theatre theater temple mosque academy senate "
    "representatives assembly congress cabinet secretary mayor chairman vice justice judge fire guard border "
    "security health education defence defense foreign interior affairs finance trade commerce energy "
    "environment agriculture labour labor transport science research space agency administration commission "
    "board cross red white green blue black golden silver royal federal states united navy service bank "
    "institute foundation society association organization organisation federation band orchestra symphony "
    "festival player leader squadron fleet hall village garden gardens battle second first third fourth "
    "seventh channel middle upper lower high supreme big little lord lady saint holy father mother brother "
    "sister son daughter emperor empress duke count sultan sheikh imam bishop cardinal archbishop "
    "reverend deputy chancellor premier speaker ambassador consul commander admiral marshal colonel "
    "lieutenant sergeant officer director manager editor professor doctor junior senior jr sr ii iii iv"
)
_NATIONALITY = re.compile(r"[a-z]{3}(?:ian|ean|ese|ish|ans)s?$")


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason to read a translation: its name, the German explanation and the words concerned."""

    name: str
    severity: float
    explanation: str
    words: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": round(self.severity, 3),
            "explanation": self.explanation,
            "words": list(self.words),
        }


@dataclass(frozen=True, slots=True)
class ParagraphQuality:
    risk: float
    flags: tuple[Flag, ...]
    signals: dict[str, float] = field(default_factory=dict)
    round_trip_chrf: float | None = None

    @property
    def flag_names(self) -> list[str]:
        return [flag.name for flag in self.flags]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"risk": round(self.risk, 3), "flags": [flag.to_json() for flag in self.flags]}
        if self.round_trip_chrf is not None:
            data["round_trip_chrf"] = round(self.round_trip_chrf, 1)
        return data


@dataclass(frozen=True, slots=True)
class DocumentQuality:
    risk: float
    paragraphs: tuple[ParagraphQuality, ...]

    @property
    def flag_names(self) -> list[str]:
        return sorted({name for paragraph in self.paragraphs for name in paragraph.flag_names})

    def risky(self, threshold: float = DEFAULT_RISK_THRESHOLD) -> bool:
        return self.risk >= threshold

    def reason(self, threshold: float = DEFAULT_RISK_THRESHOLD) -> str:
        """One German line for editors: why the article is held (empty when it is not risky)."""
        if not self.risky(threshold):
            return ""
        parts = []
        for index, paragraph in enumerate(self.paragraphs, start=1):
            if paragraph.risk >= threshold and paragraph.flags:
                parts.append(f"Absatz {index}: {', '.join(paragraph.flag_names)}")
        return f"Risiko {self.risk:.2f} ≥ {threshold:.2f} — " + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"risk": round(self.risk, 3), "paragraphs": [paragraph.to_json() for paragraph in self.paragraphs]}


@dataclass(frozen=True)
class QualityOptions:
    source_language: str = "en"
    target_language: str = "de"
    # Required target forms by source term (a glossary's terms); checked case-sensitively.
    terms: tuple[tuple[str, str], ...] = ()
    # Translates target-language text back into the source language (a reverse model), or None.
    back_translate: Callable[[Sequence[str]], list[str]] | None = None


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, value))))


# Memoized: the signals of one paragraph pair split the same two texts into words about ten times.
# A tuple, so that no caller can change what the others get.
@lru_cache(maxsize=256)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text))


# Memoized: ~2,000 calls an article (every word of both sides, the name checks again), over a
# vocabulary that repeats; anyascii and NFC per call were a fifth of the estimate's time. A whole
# paragraph is folded too (`_names`), a few per article: they are evicted first, being used once.
@lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    return anyascii(unicodedata.normalize("NFC", word)).lower()


def _sentences(text: str, language: str, thorough: bool = False) -> list[str]:
    """Sentences, a fragment of under 12 letters joined to the one before (a stray quote, "3." of a list).

    The quick split (pysbd only for ambiguous chunks) unless `thorough` (pysbd on the whole text)."""
    sentences: list[str] = []
    for start, end in (split_sentences if thorough else split_sentences_quickly)(text, language):
        piece = text[start:end]
        if sentences and not _has_letters(piece, 12):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return sentences


def _has_letters(text: str, wanted: int) -> bool:
    """Whether the text has at least `wanted` letters (counting stops there)."""
    for ch in text:
        if ch.isalpha():
            wanted -= 1
            if not wanted:
                return True
    return wanted <= 0


# --- signals ---------------------------------------------------------------------------------


def _relative_length(source: str, target: str, pair: tuple[str, str]) -> float:
    """The output's length over the length the language pair usually gives (1.0 = as usual)."""
    return _letters(target) / max(LENGTH_RATIOS.get(pair, 1.1) * _letters(source), 1)


def _length_signals(source: str, target: str, pair: tuple[str, str]) -> tuple[float, float]:
    """Severities (too short, too long). Short texts vary more, so their bounds are wider."""
    letters = _letters(source)
    if letters < 40:  # a heading or a name: any length is plausible
        return 0.0, 0.0
    relative = _relative_length(source, target, pair)
    widen = max(0.0, (300 - letters) / 300) * 0.25
    short = _sigmoid((0.86 - widen - relative) / 0.015)
    long = _sigmoid((relative - 1.25 - widen) / 0.03)
    return short, long


def _truncation(source: str, target: str, short: float) -> tuple[float, tuple[str, ...]]:
    if not target.strip():
        return (1.0, ()) if source.strip() else (0.0, ())
    source_ends = bool(_TERMINAL.search(source))
    target_ends = bool(_TERMINAL.search(target))
    if source_ends and not target_ends:
        tail = _words(target)[-3:]
        return 0.95, (" ".join(tail),) if tail else ()
    return 0.0, ()


def _letters(text: str) -> int:
    """The characters that are no white space (`str.split` cuts at exactly those `str.isspace` finds)."""
    return len("".join(text.split()))


def _misfit(source_lengths: list[int], target_lengths: list[int], expected: float) -> float:
    """Mean squared log length ratio of sentence pairs aligned one to one (Gale–Church in brief)."""
    return sum(
        math.log(max(t, 1) / (expected * max(s, 1))) ** 2 for s, t in zip(source_lengths, target_lengths, strict=True)
    ) / max(len(source_lengths), 1)


def _dropped_sentence(
    source_sentences: list[str], target_sentences: list[str], source: str, target: str, pair: tuple[str, str]
) -> tuple[float, tuple[str, ...]]:
    """Fewer output sentences than source sentences: one left out, or two translated as one?

    Two joined keep the whole length; a dropped one takes its share of the length with it. Which one
    is missing: the source sentence whose removal lets the others pair off with the output's sentences
    at the most even length ratios (Gale–Church in brief)."""
    missing = len(source_sentences) - len(target_sentences)
    if missing <= 0 and len(source_sentences) > 1:
        return _dropped_among_split(source_sentences, target_sentences, source, target, pair)
    if missing <= 0 or not source_sentences:
        return 0.0, ()
    relative = _relative_length(source, target, pair)
    severity = _sigmoid((0.97 - relative) / 0.02)
    if missing > 1:
        return severity, ()
    expected = LENGTH_RATIOS.get(pair, 1.1)
    source_lengths = [_letters(sentence) for sentence in source_sentences]
    target_lengths = [_letters(sentence) for sentence in target_sentences]
    _, dropped = min(
        (_misfit(source_lengths[:k] + source_lengths[k + 1 :], target_lengths, expected), k)
        for k in range(len(source_lengths))
    )
    return severity, (" ".join(_words(source_sentences[dropped])[:6]) + " …",)


def _dropped_among_split(
    source_sentences: list[str], target_sentences: list[str], source: str, target: str, pair: tuple[str, str]
) -> tuple[float, tuple[str, ...]]:
    """As many output sentences as source sentences, or more, and still one left out: the output split
    another sentence in two (human translations often do). Gale–Church alignment of the sentence
    lengths (one to one, two to one, one to two) tells it: leaving one source sentence out makes the
    others align far better than all of them do."""
    if _relative_length(source, target, pair) >= _SPLIT_LONGEST:
        return 0.0, ()
    expected = LENGTH_RATIOS.get(pair, 1.1)
    source_lengths = [_letters(sentence) for sentence in source_sentences]
    target_lengths = [_letters(sentence) for sentence in target_sentences]
    whole = _alignment_cost(source_lengths, target_lengths, expected)
    best, dropped = min(
        (_alignment_cost(source_lengths[:k] + source_lengths[k + 1 :], target_lengths, expected), k)
        for k in range(len(source_lengths))
    )
    severity = _sigmoid((whole - best - _SPLIT_GAIN) / 0.05)
    return severity, (" ".join(_words(source_sentences[dropped])[:6]) + " …",) if severity >= FLAG_THRESHOLD else ()


# Chosen on FLORES dev's tuning part: how much better (in squared log length ratios) the alignment must
# get without one source sentence, and the output length (relative to the usual) from which it is no drop.
_SPLIT_GAIN = 0.45
_SPLIT_LONGEST = 1.05
# The cost of aligning two sentences with one (a merge or a split) beside the length misfit.
_MERGE_COST = 0.3


def _alignment_cost(source_lengths: list[int], target_lengths: list[int], expected: float) -> float:
    """The least summed squared log length ratio over alignments of the sentences in order, one to one,
    two to one or one to two (the last two at `_MERGE_COST` more)."""
    count, target_count = len(source_lengths), len(target_lengths)
    cost = [[math.inf] * (target_count + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0

    def misfit(source_length: int, target_length: int) -> float:
        return math.log(max(target_length, 1) / (expected * max(source_length, 1))) ** 2

    for i in range(count + 1):
        for j in range(target_count + 1):
            here = cost[i][j]
            if here == math.inf:
                continue
            if i < count and j < target_count:
                step = here + misfit(source_lengths[i], target_lengths[j])
                cost[i + 1][j + 1] = min(cost[i + 1][j + 1], step)
            if i + 1 < count and j < target_count:
                step = here + misfit(source_lengths[i] + source_lengths[i + 1], target_lengths[j]) + _MERGE_COST
                cost[i + 2][j + 1] = min(cost[i + 2][j + 1], step)
            if i < count and j + 1 < target_count:
                step = here + misfit(source_lengths[i], target_lengths[j] + target_lengths[j + 1]) + _MERGE_COST
                cost[i + 1][j + 2] = min(cost[i + 1][j + 2], step)
    return cost[count][target_count]


def _untranslated(
    source_sentences: list[str], target_sentences: list[str], source_language: str, target_language: str
) -> tuple[float, tuple[str, ...]]:
    identifier = restricted_identifier((source_language, target_language))
    source_words = [{_fold(w) for w in _words(s) if len(w) > 2} for s in source_sentences]
    worst, found = 0.0, []
    for sentence in target_sentences:
        words = [w for w in _words(sentence) if not w.isdigit()]
        if len(words) < 4:
            continue
        language, probability = identifier.classify(sentence)
        by_language = probability if language == source_language else 1.0 - probability
        folded = {_fold(w) for w in words if len(w) > 2}
        overlap = max((len(folded & s) / max(len(folded), 1) for s in source_words), default=0.0)
        severity = max(
            _sigmoid((by_language - 0.97) / 0.01) * min(1.0, len(words) / 6),
            # The source's own words, when the identifier does not call it the target language.
            _sigmoid((overlap - 0.72) / 0.04) if len(folded) >= 5 and by_language > 0.3 else 0.0,
        )
        if severity > worst:
            worst = severity
        if severity >= FLAG_THRESHOLD:
            found.append(" ".join(words[:6]) + " …")
    return worst, tuple(found)


def _repeats(tokens: list[str]) -> tuple[int, list[str]]:
    """The most tokens taken by one back-to-back repetition (an n-gram repeated at once)."""
    best, phrase = 0, []
    size = len(tokens)
    for n in range(1, 9):
        index = 0
        while index + 2 * n <= size:
            copies = 1
            # The first token compared alone first: most n-grams differ there, without two slices built.
            while (
                index + (copies + 1) * n <= size
                and tokens[index + copies * n] == tokens[index]
                and tokens[index + copies * n : index + (copies + 1) * n] == tokens[index : index + n]
            ):
                copies += 1
            if copies > 1:
                taken = copies * n if n > 1 or copies > 2 else 0
                if taken > best:
                    best, phrase = taken, tokens[index : index + n]
                index += copies * n
            else:
                index += 1
    return best, phrase


def _repetition(source: str, target: str) -> tuple[float, tuple[str, ...]]:
    target_tokens = [w.lower() for w in _words(target)]
    source_tokens = [w.lower() for w in _words(source)]
    source_taken, _ = _repeats(source_tokens)
    taken, phrase = _repeats(target_tokens)
    back_to_back = _sigmoid((taken - source_taken - 3.5) / 0.4) if taken else 0.0
    # A phrase recurring often but not back to back (a loop with variations).
    grams = Counter(tuple(target_tokens[i : i + 4]) for i in range(len(target_tokens) - 3))
    source_grams = Counter(tuple(source_tokens[i : i + 4]) for i in range(len(source_tokens) - 3))
    top, count = grams.most_common(1)[0] if grams else ((), 0)
    recurring = _sigmoid((count - max(source_grams.values(), default=1) - 1.5) / 0.3) if count >= 3 else 0.0
    if recurring > back_to_back:
        return recurring, (" ".join(top),)
    return back_to_back, (" ".join(phrase),) if phrase else ()


_ORDINALS = {
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fiftieth": 50, "hundredth": 100,
}  # fmt: skip
_MULTIPLIERS = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}


def _number_words(text: str, table: dict[str, int]) -> list[str]:
    """Numbers written as words ("twelve", "zwölf"); in English also "eight hundred" → 800."""
    words = [word.lower() for word in _words(text)]
    found = []
    for index, word in enumerate(words):
        value = table.get(word, _ORDINALS.get(word) if table is _EN_NUMBER_WORDS else None)
        if value is None:
            continue
        found.append(str(value))
        following = words[index + 1] if index + 1 < len(words) else ""
        if table is _EN_NUMBER_WORDS and following in _MULTIPLIERS and word not in _MULTIPLIERS:
            found.append(str(value * _MULTIPLIERS[following]))
    return found


_CLOCK = re.compile(r"(?<![\d.,:])(\d{1,2})(?::|\.(?=\d{2}\s*(?:Uhr|h\b|[ap]\.?m\b)))(\d{2})(?![\d])")
_PARENTHESES = re.compile(r"\([^()]*\)")


# Thousands grouped by spaces, as German and ISO write them ("55 000", "5 000 000", also with narrow spaces).
_SPACE_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.,]?\d)")
# A 24-hour time written as four digits with a leading zero ("0230 UTC"): the same time as "02:30".
_MILITARY_TIME = re.compile(r"(?<![\d.,:])0(\d)([0-5]\d)(?![\d.,:])")


def _clock(hour: str, minute: str) -> str:
    return str(int(hour)) if minute == "00" else f"{int(hour)} {minute}"


def _normalized_numbers(text: str) -> str:
    """Clock times "11:00" also as "11" (German "11 Uhr"), "0230" and "02:30" alike; thousands grouped by
    spaces joined ("55 000" → "55000")."""
    text = _SPACE_GROUPED.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)
    text = _MILITARY_TIME.sub(lambda m: _clock(m.group(1), m.group(2)), text)
    return _CLOCK.sub(lambda m: _clock(m.group(1), m.group(2)), text)


def _lost_numbers(source: str, target: str, spelled_in_target: Counter[str]) -> list[str]:
    lost = []
    for digits in missing_numbers(source, target):
        value = str(int(digits)) if ascii_digits(digits) else digits
        if spelled_in_target[value]:
            spelled_in_target[value] -= 1
            continue
        lost.append(digits)
    return lost


# A number in the output that the source lacks, with none of the source's lost: a number changed where the
# source has it twice ("11:00 … 11:00"), though sometimes a rewording ("half-miler" → "800-m-Läufer").
_ADDED_NUMBER = 0.55


def _numbers(source: str, target: str, target_language: str) -> tuple[float, tuple[str, ...]]:
    """A source number missing from the output; with a number in the output the source lacks, it was changed.

    Numbers that only conversions in parentheses carry ("200 pounds (90kg)") are often left out on
    purpose and weigh less; a number lost with nothing new in its place may be a rewording."""
    # Entities ("&#39;") are characters, not numbers.
    source_text, target_text = _normalized_numbers(html.unescape(source)), _normalized_numbers(html.unescape(target))
    spelled = Counter(_number_words(target_text, _TARGET_NUMBER_WORDS.get(target_language, {})))
    lost = _lost_numbers(source_text, target_text, spelled)
    source_spelled = Counter(_number_words(source_text, _EN_NUMBER_WORDS))
    if not lost:
        # Nothing lost, but a number the source has neither in digits nor in words: changed or invented.
        added = _lost_numbers(_PARENTHESES.sub(" ", target_text), source_text, source_spelled)
        return (_ADDED_NUMBER, tuple(added)) if added else (0.0, ())
    outside = _lost_numbers(_PARENTHESES.sub(" ", source_text), target_text, Counter(spelled))
    added = _lost_numbers(target_text, source_text, source_spelled)
    if outside:
        return (0.97 if added else 0.45), tuple(outside)
    return (0.6 if added else 0.3), tuple(lost)


# English word endings of common nouns and adjectives (Championship, Electoral, Booking): a capitalised
# word with one is more often a title or an institution's word, translated, than a name.
_COMMON_WORD = re.compile(
    r"[a-z](?:tion|sion|ship|ment|ance|ence|ity|ing|ive|ous|ary|ory|ism|ness|able|ible|ure|ical)s?$"
)
_CONNECTORS = _word_set("of the de da del der von van al bin la le du di y")
# Spelling differences of transliterated names (Lukashenko/Lukaschenko, Khamenei/Chamenei), applied in order.
_SPELLING = (
    ("tsch", "ch"), ("sch", "sh"), ("kh", "k"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("ch", "k"), ("c", "k"),
    ("y", "i"), ("q", "k"), ("w", "v"), ("j", "i"), ("z", "s"),
)  # fmt: skip


@lru_cache(maxsize=1)
def _babel_exonyms() -> dict[str, str]:
    """English → German names of countries, languages and cities, from Babel's locale data."""
    from babel import Locale

    english, german = Locale("en"), Locale("de")
    names: dict[str, str] = {}
    for table in ("territories", "languages"):
        source, target = getattr(english, table), getattr(german, table)
        for code, name in source.items():
            if code in target and isinstance(name, str):
                names[_fold(name)] = _fold(target[code])
    for zone, data in german.time_zones.items():
        city = data.get("city")
        if isinstance(city, str):
            names[_fold(zone.rsplit("/", 1)[-1].replace("_", " "))] = _fold(city)
    return names


@lru_cache(maxsize=1)
def _babel_exonyms_by_word() -> dict[str, list[str]]:
    """German names by each word of the English name ("zealand" → ["neuseeland"])."""
    index: dict[str, list[str]] = {}
    for english, german in _babel_exonyms().items():
        if english != german:
            for word in re.findall(r"[a-z]{3,}", english):
                index.setdefault(word, []).append(german)
    return index


@lru_cache(maxsize=65536)
def _exonym_starts(folded: str) -> tuple[str, ...]:
    """The first five letters of each German name for an English word (folded): for the word itself or,
    failing that, for its longest start of five letters or more that has one (Greenlander → grönl,
    Christianity → christ)."""
    for end in range(len(folded), 4, -1):
        start = folded[:end]
        exonyms = [_EXONYMS.get(start), *_babel_exonyms_by_word().get(start, ())]
        found = tuple(dict.fromkeys(_fold(exonym)[:5] for exonym in exonyms if exonym))
        if found:
            return found
    return ()


@lru_cache(maxsize=65536)
def _spelling(word: str) -> str:
    for english, common in _SPELLING:
        word = word.replace(english, common)
    return word


def _alike(word: str, other: str) -> bool:
    """Whether two words (folded, spelled) are spellings of one name: the same first letter and most
    letters in the same order (Drukgyal/Drukyel, Judean/Judäan); for words of five letters or more."""
    if min(len(word), len(other)) < 5 or word[0] != other[0]:
        return False
    matcher = SequenceMatcher(None, word, other, autojunk=False)
    return matcher.real_quick_ratio() >= _ALIKE and matcher.quick_ratio() >= _ALIKE and matcher.ratio() >= _ALIKE


# The share of letters in common (difflib's ratio) from which two words spell one name.
_ALIKE = 0.75


def _shares_run(name: str, word: str, length: int) -> bool:
    """Whether two words share a run of at least `length` characters (a common substring)."""
    if length > len(name) or length > len(word):
        return False
    return any(name[start : start + length] in word for start in range(len(name) - length + 1))


# A title or "v." right before a word: no sentence ends there.
_TITLE_BEFORE = re.compile(r"(?:^|\s)(?:v|vs|Mr|Mrs|Ms|Dr|St)\.$")


def _name_runs(source: str, common: frozenset[str] = frozenset()) -> list[list[str]]:
    """Runs of capitalised words (joined by "of", "de" …) inside sentences, URLs and handles."""
    runs = [[m.group(0).rstrip(".,;:")] for m in _URLISH.finditer(source)]
    text = _URLISH.sub(" ", source)
    sentence_starts = {start for start, _ in split_sentences(text, "en")}
    run: list[str] = []
    pending: list[str] = []
    for match in re.finditer(r"[\w.'’&-]+", text):
        word = match.group(0).strip(".'’-")
        if re.fullmatch(r"(?:[A-Z]\.)+[A-Z]?", word):
            word = word.replace(".", "")  # U.S. → US
        capital = len(word) >= 2 and word[0].isupper()
        # The text before the word without its trailing white space ends at `before`: found by a step back,
        # not by a copy of all the text before each word.
        before = match.start()
        while before and text[before - 1].isspace():
            before -= 1
        at_start = match.start() in sentence_starts or not before or text[before - 1] in '.!?:"“‘(—–'
        # The title's pattern ends at `before` and starts at most six characters earlier ("\sMrs.").
        if at_start and before and text[before - 1] == "." and _TITLE_BEFORE.search(text, max(0, before - 6), before):
            at_start = False  # Roe v. Wade, Dr. Lee
        if at_start and capital and word.lower() not in common and _fold(word) not in _NOT_NAMES and len(word) > 2:
            # A word the texts never write in lower case is a name, even first in a sentence — unless an
            # English dictionary writes it so (Thanks, Interestingly, Besides).
            at_start = _english_word(word)
        if at_start and run:
            runs.append([w for w in run if w.lower() not in _CONNECTORS])
            run, pending = [], []
        if capital and not at_start and _fold(word) not in _NOT_NAMES:
            run.extend([*pending, word.split("'")[0].split("’")[0]])
            pending = []
        elif run and word.lower() in _CONNECTORS and not pending:
            pending = [word]
        else:
            if run:
                runs.append([w for w in run if w.lower() not in _CONNECTORS])
            run, pending = [], []
    if run:
        runs.append([w for w in run if w.lower() not in _CONNECTORS])
    return [r for r in runs if r]


def _name_survives(
    name: str, target_folded: str, target_words: list[str], others: frozenset[str] = frozenset()
) -> bool:
    """Whether the source's name is in the output in some form. `others` holds the output words that
    spell other names of the source: such a word stands for that name, not for this one (Galileo is no
    trace of Galilei, though they share "galil")."""
    if "://" in name or "@" in name or name.startswith("#"):
        return name.lower() in target_folded
    folded = _fold(name)
    if any(exonym in target_folded for exonym in _exonym_starts(folded)):
        return True
    spelled = _spelling(folded)
    if others:
        target_words = [word for word in target_words if word not in others]
    if len(folded) <= 3:
        return any(word.startswith(spelled) for word in target_words)
    # Inflected (Stanfords), compounded (Stanford-Forscher), transliterated (Khamenei → Chamenei). Not
    # `_alike`: a lost name is too often alike to another name of the output (measured on the tuning part).
    needed = max(3, math.ceil(0.7 * len(spelled)))
    return any(_shares_run(spelled, word, needed) for word in target_words)


def _zipf(word: str, language: str) -> float:
    """The word's frequency in the language (wordfreq's Zipf scale, 0 = unknown); 0 for a language
    wordfreq has no list for, which leaves the names signal to the other tests."""
    from wordfreq import zipf_frequency

    try:
        return float(zipf_frequency(word, language))
    except LookupError:
        return 0.0


@lru_cache(maxsize=1)
def _english_lowercase_words() -> frozenset[str]:
    """The words an English dictionary writes in lower case (Webster's Second, the `web2` list of the
    english-words package): "grab", "tempo", "island" — not "Florida", "Johnson"."""
    from english_words import get_english_words_set

    return frozenset(word for word in get_english_words_set(["web2"], alpha=True) if word.islower())


@lru_cache(maxsize=65536)
def _english_lowercase(word: str) -> bool:
    """Whether an English dictionary writes the word (or its singular) in lower case."""
    lower = word.lower()
    forms = {lower, lower.replace("isation", "ization")}
    if lower.endswith("s"):
        forms |= {lower[:-1], lower[:-2], lower[:-3] + "y"}  # films, boxes, parties
    words = _english_lowercase_words()
    return any(form in words for form in forms)


def _english_word(word: str) -> bool:
    """Whether a capitalised word is an English common word: a dictionary writes it in lower case and
    English uses it (Zipf ≥ 2.5: a rare dictionary word such as "zayat" is rather a name)."""
    return _english_lowercase(word) and _zipf(word.lower(), "en") >= _COMMON_ZIPF


# English use (Zipf) from which a dictionary word counts as a common word rather than a name.
_COMMON_ZIPF = 2.5


@lru_cache(maxsize=65536)
def _kept_in_target_language(word: str, target_language: str) -> bool:
    """Whether texts of the target language use the word as English does: a name (Obama, Rodrigo) is
    about as frequent in German as in English, a word German translates (Preliminary, Drivers, the
    demonym Panamanian) is far rarer or absent. Word frequencies from wordfreq; a word neither language
    knows is a rare name, and so is a rare English word that German texts lack (Keselowski, Karenia:
    wordfreq's German list is shorter)."""
    english, target = _zipf(word, "en"), _zipf(word, target_language)
    if target_language == "de":  # German transliterates (Lukashenko → Lukaschenko, Yeltsin → Jelzin)
        target = max([target, *(_zipf(spelled, "de") for spelled in _german_spellings(word.lower()))])
    if english == 0.0:
        return True
    # A word an English dictionary writes in lower case is a name only when German uses it nearly as
    # often (Berlin, Carter) — not the words of titles (Natives, Superintendent, Janissary).
    dictionary_word = _english_lowercase(word)
    if target == 0.0:
        return english <= _RARE_NAME_ZIPF and _has_list(target_language) and not dictionary_word
    return english - target <= (_WORD_FREQUENCY_GAP if dictionary_word else _FREQUENCY_GAP)


@lru_cache(maxsize=16)
def _has_list(language: str) -> bool:
    """Whether wordfreq has a word list for the language (else every word reads as unknown there)."""
    return _zipf("the" if language == "en" else "a", language) > 0.0 or _zipf("de", language) > 0.0


# English spellings of transliterated names and their German ones, applied one rule at a time and all at once.
_GERMAN_SPELLING = (("sh", "sch"), ("ch", "tsch"), ("kh", "ch"), ("v", "w"), ("y", "j"), ("zh", "sch"), ("z", "s"))


def _german_spellings(word: str) -> list[str]:
    spellings = {word.replace(english, german) for english, german in _GERMAN_SPELLING if english in word}
    combined = word
    for english, german in _GERMAN_SPELLING:
        combined = combined.replace(english, german)
    return sorted(spellings | {combined} - {word})


# Zipf units (log10 per billion words) by which an English word may be more frequent in English than in
# the target language and still count as a name the translation keeps (tuned on FLORES dev's tuning part).
_FREQUENCY_GAP = 1.0
# The same for a word an English dictionary writes in lower case (Berlin: a carriage, too).
_WORD_FREQUENCY_GAP = 0.7


def _name_like(name: str, target_folded: str, target_words: list[str], target_language: str = "de") -> bool:
    """Whether a lost capitalised word is likely a name a translation keeps (not a word it translates)."""
    if _NATIONALITY.search(name):
        return False  # Brazilian, Venezuelans
    if not _kept_in_target_language(name, target_language):
        return False
    if name.isupper() and len(name) <= 5:
        return False  # acronyms are often translated (UK → GB, GDP → BIP)
    parts = [part for part in _split_parts(name) if part]
    return not (len(parts) > 1 and any(_name_survives(part, target_folded, target_words) for part in parts))


def _fewer_mentions(name: str, source: str, target_tokens: list[str]) -> bool:
    """A name the source mentions more often than the output (one of two "Costello" changed)."""
    mentions: int = sum(word == name for word in re.findall(r"\w+", source))
    if mentions < 2 or not name[1:].islower() or _COMMON_WORD.search(name) or _NATIONALITY.search(name):
        return False
    folded = _fold(name)
    exonyms = _exonym_starts(folded)
    spelled = _spelling(folded)
    needed = min(len(spelled), max(3, math.ceil(0.7 * len(spelled))))
    # The tokens spelled as the name is (Sejong → seiong): a folded token alone would never share the run.
    found = sum(
        _shares_run(spelled, _spelling(token), needed) or any(exonym in token for exonym in exonyms)
        for token in target_tokens
    )
    return found < mentions


@dataclass(frozen=True, slots=True)
class _NameEvidence:
    """What the names signal weighs: source names missing from the output and output names the source lacks."""

    lost: tuple[str, ...]  # every source name missing, sure or not
    whole: int  # runs lost whole with a sure name among them (Brisbane, "Rodrigo Arias")
    part: int  # runs with a sure name lost and another part kept ("Galileo Galilei" → "Galileo Glynn")
    strong: int  # runs lost whole with a name both languages know about as well (Brisbane, not Karenia)
    fewer: tuple[str, ...]  # names mentioned fewer times than in the source (one of two "Vidal" changed)
    added: tuple[str, ...]  # name-like words of the output that the source lacks (the name put in place)


def _name_evidence(source: str, target: str, common: frozenset[str], target_language: str) -> _NameEvidence:
    runs = _name_runs(source, common)
    target_folded = _fold(target)
    words = {_fold(part) for word in _words(target) for part in (word, *_split_parts(word))}
    target_words = [_spelling(word) for word in words]
    spelled_names = {_spelling(_fold(name)) for run in runs for name in run if len(name) >= 4}
    # The source names that output words start with (galileo → {galileo}), to tell whose trace each is.
    starts: dict[str, set[str]] = {}
    for word in target_words:
        for spelled in spelled_names:
            if word.startswith(spelled):
                starts.setdefault(word, set()).add(spelled)
    whole = part = strong = 0
    lost: list[str] = []
    for run in runs:
        missing = []
        for name in run:
            spelled = _spelling(_fold(name))
            others = frozenset(word for word, names in starts.items() if not word.startswith(spelled) and names)
            if not _name_survives(name, target_folded, target_words, others):
                missing.append(name)
        if not missing:
            continue
        lost.extend(missing)
        sure = [
            name
            for name in missing
            if name.lower() not in common and _name_like(name, target_folded, target_words, target_language)
        ]
        if sure and len(missing) == len(run):
            whole += 1
            strong += any(_known_in_both(name, target_language) for name in sure)
        elif sure:
            part += 1
    target_tokens = [_fold(word) for word in _words(target)]
    fewer = tuple(
        name
        for name in dict.fromkeys(name for run in runs for name in run if name not in lost)
        if name.lower() not in common and _fewer_mentions(name, source, target_tokens)
    )
    added = tuple(_added_names(source, target, target_language, common))
    return _NameEvidence(tuple(lost), whole, part, strong, fewer, added)


def _known_in_both(name: str, target_language: str) -> bool:
    """A lost name that both word lists know, a word of letters that no English dictionary writes in lower
    case: its loss is no rare word or typo that the name test let through (Novemeber, Sealion), nor a
    word German happens to share (Fair, Don), nor an abbreviation (B&Bs, Nov-Feb)."""
    return (
        name.isalpha()
        and _zipf(name, "en") > 0.0
        and _zipf(name, target_language) > 0.0
        and not _english_lowercase(name)
    )


def _known_added(word: str, target_language: str) -> bool:
    """An added name that both languages know (Zipf > 2: Florida, not the coinage Lightshow) and English
    uses at least as much as the target language: a word the target language uses more is rather its own
    (Diskette, Roadtrip)."""
    english, native = _zipf(word, "en"), _zipf(word, target_language)
    return word.isalpha() and english > _KNOWN_ADDED and native > _KNOWN_ADDED and english >= native - 0.1


# The frequency (Zipf) in both languages from which a name added flags by itself.
_KNOWN_ADDED = 2.0


def _names(
    source: str, target: str, common: frozenset[str] = frozenset(), target_language: str = "de"
) -> tuple[float, tuple[str, ...]]:
    """Names of the source lost in the output, and names of the output the source lacks.

    `common` holds the words the source texts use in lower case: a capitalised "Tribal" or "Booking"
    next to a lower-case "tribal" or "booking" elsewhere is a word, which translations translate.
    A change is a name lost with another put in its place; either alone is weaker evidence, since
    translations translate words (Superintendent → Schulrat) and transliterate names (Ovechkin →
    Owetschkin). Weights: a name that both languages know lost whole 1.0 (a flag by itself), a rarer
    name lost whole or one part of a name lost 0.6, any other capitalised word lost 0.4, a name mentioned
    fewer times than in the source 0.4, a name-like word or an English word added 0.6 — 1.0 (a flag by
    itself) when both languages know it as a name, English no less (Florida; not the coinage Lightshow,
    nor Diskette, nor the English word Valley); the flag needs 1.0."""
    evidence = _name_evidence(source, target, common, target_language)
    if not (evidence.lost or evidence.fewer or evidence.added):
        return 0.0, ()
    # Rarer names lost count once: several are rather the words of a title, translated (International
    # Horticultural Exposition), than names changed — one name is changed at a time.
    sure = evidence.strong * 1.0 + (_SURE_WEIGHT if evidence.whole - evidence.strong + evidence.part else 0.0)
    weight = sure or (_UNSURE_WEIGHT if evidence.lost else 0.0)
    if evidence.fewer:
        weight += _FEWER_WEIGHT
    # An English word put in (Valley) is weaker evidence than a name both languages know (Florida): German
    # texts quote English titles and terms, too.
    if any(
        _known_added(word, target_language) and not _english_rather_than_target(word, target_language)
        for word in evidence.added
    ):
        weight += 1.0
    elif evidence.added:
        weight += _ADDED_WEIGHT
    words = evidence.lost + evidence.fewer + evidence.added
    # Graded below the flag (a rarer name lost alone ~0.08, with a mention fewer ~0.26) for the ranking.
    return _sigmoid((weight - _NAMES_WEIGHT) / 0.15) * 0.97, tuple(dict.fromkeys(words))


# Chosen on FLORES dev's tuning part (bench/quality.py, with the Firefox models' outputs beside the
# reference and Google's): the weights of a rarer name lost (or part of one), of a capitalised word lost
# that is no sure name, of a name mentioned fewer times and of a name-like word added; a flag from 1.0.
_SURE_WEIGHT = 0.6
_UNSURE_WEIGHT = 0.4
_FEWER_WEIGHT = 0.4
_ADDED_WEIGHT = 0.6
_NAMES_WEIGHT = 0.95
_PARTS = re.compile(r"[-'’]")  # the parts of a compound or a possessive (Stanford-Forscher, Nadal's)


# Memoized: every word of both texts is split, in two signals, over a vocabulary that repeats.
@lru_cache(maxsize=65536)
def _split_parts(word: str) -> tuple[str, ...]:
    """`_PARTS.split(word)`: the parts of a compound or a possessive."""
    return tuple(_PARTS.split(word))


_SENTENCE_END = re.compile(r"[.!?:;\"„“”»«(—–]\s*$")
# A period that ends no sentence: a title or "v." (St. Louis, Roe v. Wade) or a German ordinal (9. August).
_NO_END_BEFORE = re.compile(r"(?:^|[\s(])(?:v|vs|St|Dr|Mr|Mrs|Ms|\d{1,2})\.\s+$")


def _added_names(source: str, target: str, target_language: str, common: frozenset[str]) -> list[str]:
    """Capitalised words of the output (or parts of its compounds: Birmingham-Sojus-Mission) that the
    source lacks and that both languages write alike: names (Gripen, Zapatero) rather than words of the
    target language (Schulrat), compounds (Präsidialamt), words German shares with English (Tempo, Grab)
    or a German exonym of a source word (Pandschabi for Punjabi)."""
    parts = {part for word in _words(source) for part in (word, *_split_parts(word))}
    source_words = [_spelling(_fold(part)) for part in parts]
    # Word starts that an added word may begin with and still come from the source: four letters of a
    # source word, or a capitalised abbreviation (Nov).
    starts = {_spelling(_fold(part))[:4] for part in parts if len(part) >= 4 or (len(part) == 3 and part.istitle())}
    exonyms = {exonym for word in {_fold(word) for word in _words(source)} for exonym in _exonym_starts(word)}
    added = []
    for match in _WORD.finditer(target):
        before = target[max(0, match.start() - 12) : match.start()]
        at_start = match.start() == 0 or (_SENTENCE_END.search(before) and not _NO_END_BEFORE.search(before))
        for word in _split_parts(match.group(0)):
            if len(word) < 3 or not word[0].isupper() or not word[1:].islower() or word.lower() in common:
                continue
            if at_start and not _known_added(word, target_language):
                continue
            # The frequency test first: it rules out most words of a German output (every noun is
            # capitalised) before the costlier comparison with each source word.
            english_like = _english_rather_than_target(word, target_language)
            if not english_like and (not _name_like_in_both(word, target_language) or _english_word(word)):
                continue
            folded = _fold(word)
            if any(exonym in folded for exonym in exonyms):
                continue
            spelled = _spelling(folded)
            needed = max(3, math.ceil(0.7 * len(spelled)))
            # Not from the source in another form: inflected or transliterated (a shared run, alike), a
            # derivation (Arawakisch for Arawakan, Manchester for Mancunian) or written out (Nov → November).
            if not any(
                _shares_run(spelled, source_word, needed) or _alike(spelled, source_word)
                for source_word in source_words
            ) and not any(spelled.startswith(start) for start in starts):
                added.append(word)
    # A word that reads as surely of the target language (Sieges, Katastrophisierung) is no name.
    identifier = restricted_identifier(tuple(sorted({"en", target_language})))
    added = [word for word in added if _word_language(identifier, word) != target_language]
    return added


@lru_cache(maxsize=65536)
def _english_rather_than_target(word: str, target_language: str) -> bool:
    """A capitalised English word (a dictionary has it, or English uses it far more) that the target language
    uses clearly less than English: in a German output no German noun but English kept or put in — a name
    (Valley, Blake, Birmingham, Zealand), since a translation translates the English words it has."""
    if target_language == "en":
        return False
    english, native = _zipf(word, "en"), _zipf(word, target_language)
    if native == 0.0 or english - native < _ENGLISH_GAP or english - native > _ENGLISH_GAP_MOST:
        return False
    return _english_lowercase(word) or english - native > _FREQUENCY_GAP


# How much more English uses a word than the target language for it to read as English in an output
# (chosen on the tuning part); beyond the largest gap the target language hardly knows the word.
_ENGLISH_GAP = 0.4
_ENGLISH_GAP_MOST = 2.0


@lru_cache(maxsize=65536)
def _name_like_in_both(word: str, target_language: str) -> bool:
    """Whether English and the target language use the word about as often (a name), or neither knows it
    or only English does, rarely, and it is no compound of known words (a rare name)."""
    english, native = _zipf(word, "en"), _zipf(word, target_language)
    if english > 0.0 and native > 0.0:
        return abs(english - native) <= _FREQUENCY_GAP
    if native > 0.0 or english > _RARE_NAME_ZIPF:
        return False
    return not _compound(word.lower(), target_language)


# The English use (Zipf) up to which a word that the target language's list lacks counts as a rare name.
_RARE_NAME_ZIPF = 2.6


def _word_language(identifier: Any, word: str) -> str | None:
    """The language py3langid gives a single word when it is sure (probability ≥ 0.95), else None."""
    language, probability = identifier.classify(word)
    return str(language) if probability >= 0.95 else None


@lru_cache(maxsize=65536)
def _compound(word: str, language: str) -> bool:
    """Whether a word splits into known words of the language (Präsidial|amt, Regierung|s|sitz,
    Truppen|abschuss|rampe); a short piece must be a frequent word, or names would split too (Dama|dian).
    A frequent word of six letters or more at the end is enough (Bohr|modell, Supplementations|praktiken):
    German compounds end in the word they name."""
    for cut in range(3, len(word) - 5):
        if _zipf(word[cut:], language) >= 3.0:
            return True
    for cut in range(3, len(word) - 2):
        head, tail = word[:cut], word[cut:]
        heads = (head, head[:-1]) if head.endswith("s") and cut > 4 else (head,)
        if any(_known_piece(h, language) for h in heads) and (
            _known_piece(tail, language) or (len(tail) >= 8 and _compound(tail, language))
        ):
            return True
    return False


def _known_piece(piece: str, language: str) -> bool:
    return _zipf(piece, language) >= {3: 4.0, 4: 3.0}.get(len(piece), 2.0)


_NEGATION_IDIOMS = {
    "de": (
        (re.compile(r"(?:\bnot|n't)\b[^.;]{0,40}?\buntil\b", re.IGNORECASE), re.compile(r"\berst\b", re.IGNORECASE)),
        (re.compile(r"(?:\bnot|n't)\s+(?:care|mind|matter)", re.IGNORECASE), re.compile(r"\begal\b", re.IGNORECASE)),
        (re.compile(r"(?:\bnot|n't)\b[^.;]{0,30}?\b(?:long|soon)\b", re.IGNORECASE),
         re.compile(r"\b(?:lange|bald)\b", re.IGNORECASE)),
    ),
}  # fmt: skip


def _negation(source: str, target: str, target_language: str) -> tuple[float, tuple[str, ...]]:
    pattern = _TARGET_NEGATION.get(target_language)
    if pattern is None:
        return 0.0, ()
    cues = [m.group(0) for m in _EN_NEGATION.finditer(source)]
    target_cues = len(pattern.findall(target))
    # English negations that the target language words without a negation ("not until" → "erst").
    for english, rendering in _NEGATION_IDIOMS.get(target_language, ()):
        target_cues += min(len(english.findall(source)), len(rendering.findall(target)))
    missing = len(cues) - target_cues
    if missing <= 0:
        return 0.0, ()
    return _sigmoid((missing - 0.5) / 0.25) * 0.9, tuple(cues)


def _glossary(source: str, target: str, terms: Iterable[tuple[str, str]]) -> tuple[float, tuple[str, ...]]:
    lost = []
    for source_term, target_term in terms:
        if re.search(rf"(?<!\w){re.escape(source_term)}(?!\w)", source) and not re.search(
            rf"(?<!\w){re.escape(target_term)}", target
        ):
            lost.append(f"{source_term} → {target_term}")
    return (0.9, tuple(lost)) if lost else (0.0, ())


def chrf(hypothesis: str, reference: str, order: int = 6, beta: float = 2.0) -> float:
    """Character n-gram F-score (chrF, Popović 2015) on 0–100, spaces removed as sacrebleu does."""
    hyp, ref = re.sub(r"\s+", "", hypothesis), re.sub(r"\s+", "", reference)
    precisions, recalls = [], []
    for n in range(1, order + 1):
        hyp_grams = Counter(hyp[i : i + n] for i in range(len(hyp) - n + 1))
        ref_grams = Counter(ref[i : i + n] for i in range(len(ref) - n + 1))
        if not hyp_grams or not ref_grams:
            continue
        matches = sum((hyp_grams & ref_grams).values())
        precisions.append(matches / sum(hyp_grams.values()))
        recalls.append(matches / sum(ref_grams.values()))
    if not precisions:
        return 0.0
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if precision + recall == 0:
        return 0.0
    return 100 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def round_trip_severity(score: float) -> float:
    """Severity of a round-trip chrF: below ~35 the back-translation has lost the source's meaning."""
    return _sigmoid((30.0 - score) / 4.0)


# --- scoring ---------------------------------------------------------------------------------


def _combine(severities: dict[str, float]) -> float:
    product = 1.0
    for severity in severities.values():
        product *= 1.0 - min(max(severity, 0.0), 1.0)
    risk = 1.0 - product
    if max(severities.values(), default=0.0) < FLAG_THRESHOLD:
        risk = min(risk, FLAG_THRESHOLD - 0.01)
    return risk


def _signals(
    source: str, target: str, options: QualityOptions, common: frozenset[str]
) -> dict[str, tuple[float, tuple[str, ...]]]:
    pair = (options.source_language, options.target_language)
    source_sentences = _sentences(source, options.source_language)
    target_sentences = _sentences(target, options.target_language)
    if len(target_sentences) < len(source_sentences):
        # Fewer sentences than the source is what `dropped_sentence` looks for: confirmed by pysbd (costly,
        # so only here), whose reading of quotes and abbreviations in the target language is surer.
        thorough = _sentences(target, options.target_language, thorough=True)
        target_sentences = max(target_sentences, thorough, key=len)
    short, long = _length_signals(source, target, pair)
    signals: dict[str, tuple[float, tuple[str, ...]]] = {
        "truncated": _truncation(source, target, short),
        "dropped_sentence": _dropped_sentence(source_sentences, target_sentences, source, target, pair),
        "length": (max(short, long), ()),
        "untranslated": _untranslated(
            source_sentences, target_sentences, options.source_language, options.target_language
        ),
        "repetition": _repetition(source, target),
        "numbers": _numbers(source, target, options.target_language),
        "names": _names(source, target, common, options.target_language),
        "negation": _negation(source, target, options.target_language),
        "glossary": _glossary(source, target, options.terms),
    }
    return signals


def _paragraph_quality(signals: dict[str, tuple[float, tuple[str, ...]]], round_trip: float | None) -> ParagraphQuality:
    severities = {name: severity for name, (severity, _) in signals.items()}
    if round_trip is not None:
        severities["round_trip"] = round_trip_severity(round_trip)
        signals = {**signals, "round_trip": (severities["round_trip"], ())}
    flags = tuple(
        Flag(name, severity, EXPLANATIONS[name], words)
        for name, (severity, words) in sorted(signals.items(), key=lambda item: -item[1][0])
        if severity >= FLAG_THRESHOLD
    )
    return ParagraphQuality(_combine(severities), flags, severities, round_trip)


def estimate_paragraphs(
    pairs: Sequence[tuple[str, str]], options: QualityOptions | None = None
) -> list[ParagraphQuality]:
    """Quality of each (source, translation) paragraph pair, as plain text."""
    options = options or QualityOptions()
    # Words the sources use in lower case (the whole article, or the whole file of `quality score`).
    common = frozenset(word for source, _ in pairs for word in _LOWER_WORD.findall(source))
    backs: list[str | None] = [None] * len(pairs)
    if options.back_translate is not None:
        wanted = [index for index, (source, target) in enumerate(pairs) if source.strip() and target.strip()]
        for index, text in zip(wanted, options.back_translate([pairs[index][1] for index in wanted]), strict=True):
            backs[index] = text
    qualities = []
    for (source, target), back in zip(pairs, backs, strict=True):
        if not (source.strip() or target.strip()):
            qualities.append(ParagraphQuality(0.0, ()))
            continue
        signals = _signals(source, target, options, common)
        if back is not None:
            languages = (options.source_language, options.target_language)
            signals["names"] = _names_round_trip(signals["names"], source, back, common, languages)
        qualities.append(_paragraph_quality(signals, chrf(back, source) if back is not None else None))
    return qualities


def _names_round_trip(
    forward: tuple[float, tuple[str, ...]],
    source: str,
    back: str,
    common: frozenset[str],
    languages: tuple[str, str],
) -> tuple[float, tuple[str, ...]]:
    """The names signal checked again on the back-translation, in the source's own language, where a kept
    name must come back spelled as it was: a name lost there too, with another in its place, is a change
    (the forward check alone cannot tell a name from a word translated); every name back means the
    forward signal saw a rendering, not a loss."""
    source_language, target_language = languages
    back_severity, back_words = _names(source, back, common, source_language)
    # Only words that pass for names in the output's language count (not "Besides" first in a sentence).
    names_lost_both = [
        word
        for word in set(forward[1]) & set(back_words)
        if word.lower() not in common and _kept_in_target_language(word, target_language)
    ]
    if back_severity >= FLAG_THRESHOLD and names_lost_both:
        # Lost in both directions: a back-translation alone may mangle a rare name the output kept.
        return max(forward[0], back_severity), tuple(dict.fromkeys(forward[1] + back_words))
    if not back_words:
        return min(forward[0], _NAMES_CLEARED), forward[1]
    return forward


# The names severity at most when the back-translation brings every name back (no flag by itself).
_NAMES_CLEARED = 0.3


def estimate_document(pairs: Sequence[tuple[str, str]], options: QualityOptions | None = None) -> DocumentQuality:
    paragraphs = estimate_paragraphs(pairs, options)
    return DocumentQuality(max((p.risk for p in paragraphs), default=0.0), tuple(paragraphs))


def warm_up(source_language: str, target_language: str) -> None:
    """Load the estimator's data once (language identifier, word frequencies, Babel's names, the English
    dictionary), as a service does at its first article: ~2 s that a benchmark counts as start-up, not per
    article."""
    restricted_identifier((source_language, target_language))
    for language in (source_language, target_language):
        _zipf("warm", language)
    _babel_exonyms_by_word()
    _english_lowercase_words()


@dataclass(frozen=True)
class Assessment:
    """A translated article's estimate as stored with it, and what the round trip cost."""

    quality: DocumentQuality
    round_trip_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = self.quality.to_json()
        if self.round_trip_s is not None:
            data["round_trip_s"] = round(self.round_trip_s, 3)
        return data


def assess_document(
    source_paragraphs: Sequence[str],
    target_paragraphs: Sequence[str],
    source_language: str,
    target_language: str,
    back_translate: Callable[[Sequence[str]], list[str]] | None = None,
) -> Assessment:
    """The estimate of a translated article from its paragraphs' plain text (one to one, in order).

    `back_translate` (the reverse model's batch call) adds the round-trip signal; its time is reported."""
    pairs = list(zip(source_paragraphs, target_paragraphs, strict=False))
    timed: list[float] = []

    def timed_back(texts: Sequence[str]) -> list[str]:
        assert back_translate is not None
        started = time.perf_counter()
        try:
            return back_translate(texts)
        finally:
            timed.append(time.perf_counter() - started)

    options = QualityOptions(source_language, target_language, back_translate=timed_back if back_translate else None)
    return Assessment(estimate_document(pairs, options), sum(timed) if timed else None)
