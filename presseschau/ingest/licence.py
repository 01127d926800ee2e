"""Licence detection: the licence an article page declares, as a normalised identifier.

Outlets declare licences in several ways, read here in order of how specific they are: a
`<link rel="license">` in the head, the article's JSON-LD `license`, `dcterms.license` /
`dc.rights` meta tags, an `<a rel="license">` (the Creative Commons chooser's footer snippet),
a link to a Creative Commons licence deed, and the CC badge image. Each becomes an identifier of
`presseschau.store.rights.LICENCES` (`CC-BY-ND-4.0`, `CC0-1.0`, ...) with where it was found;
nothing found is `unknown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from presseschau.store.rights import LICENCES, UNKNOWN_LICENCE

# creativecommons.org/licenses/by-nd/4.0/, .../publicdomain/zero/1.0, and the badge image paths
# licensebuttons.net/l/by-nd/4.0/88x31.png and i.creativecommons.org/l/by/4.0/80x15.png.
_CC_URL_RE = re.compile(
    r"(?:creativecommons\.org/licen[cs]es|licensebuttons\.net/l|i\.creativecommons\.org/l)"
    r"/(by(?:-nc)?(?:-nd|-sa)?)/(\d\.\d)",
    re.IGNORECASE,
)
_CC_PUBLIC_DOMAIN_RE = re.compile(
    r"(?:creativecommons\.org/publicdomain|licensebuttons\.net/p|i\.creativecommons\.org/p)/(zero|mark)/1\.0", re.I
)
# Names as written in text: "CC BY-ND 4.0", "CC-BY-NC-ND-3.0", "Creative Commons Attribution-NoDerivatives 4.0".
_CC_SHORT_RE = re.compile(r"\bCC[\s-]+(BY(?:[\s-]+NC)?(?:[\s-]+(?:ND|SA))?)[\s-]+(\d\.\d)\b", re.IGNORECASE)
_CC_LONG_RE = re.compile(
    r"Creative\s+Commons\s+Attribution((?:[\s-]+(?:Non-?Commercial|No-?Deriv(?:ative)?s?|Share-?Alike))*)\s+(\d\.\d)",
    re.IGNORECASE,
)
_CC0_RE = re.compile(r"\bCC0\b|\bCC\s+Zero\b", re.IGNORECASE)
_ALL_RIGHTS_RE = re.compile(r"\ball\s+rights\s+reserved\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DetectedLicence:
    """A page's licence: a `LICENCES` identifier, where it was found, and the URL it named."""

    id: str
    found: str | None = None
    url: str | None = None


UNKNOWN = DetectedLicence(UNKNOWN_LICENCE)


def normalise_licence(value: str | None) -> str | None:
    """The identifier of a licence URL or name, or None when it names no licence we know."""
    if not value:
        return None
    text = value.strip()
    if match := _CC_URL_RE.search(text):
        return _known(f"CC-{match.group(1).upper()}-{match.group(2)}")
    if match := _CC_PUBLIC_DOMAIN_RE.search(text):
        return "CC0-1.0" if match.group(1).lower() == "zero" else "PDM-1.0"
    if match := _CC_SHORT_RE.search(text):
        elements = "-".join(re.split(r"[\s-]+", match.group(1).upper()))
        return _known(f"CC-{elements}-{match.group(2)}")
    if match := _CC_LONG_RE.search(text):
        words = match.group(1).lower()
        elements = "BY" + ("-NC" if "commercial" in words else "")
        elements += "-ND" if "deriv" in words else "-SA" if "share" in words else ""
        return _known(f"CC-{elements}-{match.group(2)}")
    if _CC0_RE.search(text):
        return "CC0-1.0"
    if _ALL_RIGHTS_RE.search(text):
        return "all-rights-reserved"
    return None


def _known(identifier: str) -> str | None:
    return identifier if identifier in LICENCES else None


def detect_licence(tree: Any, json_ld: list[dict[str, Any]]) -> DetectedLicence:
    """The licence the page (parsed `tree`, its JSON-LD objects) declares for its article."""
    if tree is None:
        return UNKNOWN
    candidates: list[tuple[str, str | None]] = []
    rel = 'contains(concat(" ", normalize-space(translate(@rel, "LICENSE", "license")), " "), " license ")'
    candidates += [("link-rel", href) for href in tree.xpath(f"//link[{rel}]/@href")]
    candidates += [("json-ld", value) for value in _json_ld_licences(json_ld)]
    for name, found in (("dcterms.license", "meta:dcterms.license"), ("dc.rights", "meta:dc.rights"),
                        ("dcterms.rights", "meta:dcterms.rights"), ("license", "meta:license")):  # fmt: skip
        for meta in tree.iter("meta"):
            key = (meta.get("name") or meta.get("property") or "").strip().lower()
            if key == name:
                candidates.append((found, meta.get("content")))
    candidates += [("a-rel", a.get("href")) for a in tree.xpath(f"//a[{rel}]")]
    candidates += [("a-rel", a.text_content()) for a in tree.xpath(f"//a[{rel}]")]
    candidates += [("cc-link", href) for href in tree.xpath('//a[contains(@href, "creativecommons.org/")]/@href')]
    candidates += [("badge-image", src) for src in tree.xpath("//img/@src") if _CC_URL_RE.search(str(src))]
    for found, value in candidates:
        identifier = normalise_licence(str(value) if value else None)
        if identifier is not None:
            url = str(value).strip() if value and str(value).strip().startswith("http") else None
            return DetectedLicence(identifier, found, url)
    return UNKNOWN


_ARTICLE_TYPES = ("Article", "BlogPosting", "Report", "WebPage", "CreativeWork")


def _json_ld_licences(objects: list[dict[str, Any]]) -> list[str]:
    """`license` values of the page's article-like JSON-LD objects (URL strings, or objects' url/@id/name)."""
    found: list[str] = []
    for item in objects:
        types = item.get("@type")
        names = [str(t) for t in (types if isinstance(types, list) else [types]) if t]
        if names and not any(name.endswith(_ARTICLE_TYPES) for name in names):
            continue
        values = item.get("license")
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, dict):
                found += [str(value[key]) for key in ("url", "@id", "name") if isinstance(value.get(key), str)]
    return found
