"""Article extraction: HTML page -> metadata + ordered `content.Paragraph`s, with trafilatura.

trafilatura finds the main content; this module turns its XML body (`p`, `head`, `list/item`,
`quote`, `code`, `table`, inline `hi`/`ref`/`lb`) into the project's paragraph model, keeps links
absolute, drops boilerplate lines, and picks the metadata. The options were chosen on the
`articles-en` benchmark (`bench/extraction.py`): `favor_precision` scores best there, and a
recall-oriented pass is used only when the precise one finds nothing.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree

from presseschau.content import Paragraph, html_to_text, sanitize_inline_html
from presseschau.ingest.dates import DatedValue, dated, most_precise, parse_datetime, url_date
from presseschau.ingest.errors import NoArticleFound
from presseschau.ingest.language import detect_language
from presseschau.ingest.licence import UNKNOWN, DetectedLicence, detect_licence
from presseschau.ingest.urls import normalize_url

log = logging.getLogger(__name__)

# Fewer words than this in the whole body is a teaser, a paywall stub or an index page.
MIN_ARTICLE_WORDS = 40
_BOILERPLATE_RE = re.compile(
    r"""^(?:
        advertisement|advertising|sponsored(?:\ content)?|ad|comments?|
        read\ more|read\ next|continue\ reading|more\ on\ this\ story|recommended|
        related(?:\ (?:articles?|posts?|stories|coverage|roundup|reading|content))?(?::.*)?|tags?:.*|
        (?:(?:like|enjoy(?:ed)?)\ this\ (?:story|article)\?\s*)?share\ (?:this|it|on)\b.*|click\ here\b.*|
        (?:sign\ up|subscribe)\b.*\bnewsletter.*|
        follow\ us\ on\b.*|
        (?:photo|image)\ credit:?.*|
        \[\w+[^\]]*\].*\[/\w+\]    # an unrendered WordPress shortcode
    )[\s.:!…>»›-]*$""",
    re.IGNORECASE | re.VERBOSE,
)
_HAS_WORD_RE = re.compile(r"\w", re.UNICODE)
_DOUBLE_BREAK_RE = re.compile(r"(?:\s*<br>\s*){2,}")
# Only short lines can be boilerplate; a long paragraph starting "Read more" is content.
_BOILERPLATE_MAX_WORDS = 12
_HI_TAGS = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}
_TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_formatting": True,
    "include_links": True,
    "include_images": False,
    "include_comments": False,
    "include_tables": True,
    "with_metadata": True,
    "deduplicate": False,
    "date_extraction_params": {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
}


@dataclass
class ExtractedArticle:
    """What extraction learned about one article page, ready for `service.store_extracted`."""

    url: str
    canonical_url: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    # The source gave only a day (published_at is its midnight UTC), and where the date was read.
    published_date_only: bool = False
    published_at_source: str | None = None
    genre: str | None = None
    updated_at: datetime | None = None
    outlet: str | None = None
    language: str | None = None
    language_probability: float = 0.0
    description: str | None = None
    image_url: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    # The licence the page declares (`presseschau.ingest.licence`), `unknown` when none.
    licence: DetectedLicence = UNKNOWN

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    @property
    def word_count(self) -> int:
        return sum(len(p.text.split()) for p in self.paragraphs)


def extract_article(
    page_html: str, url: str, *, min_words: int = MIN_ARTICLE_WORDS, trust_canonical: bool = False
) -> ExtractedArticle:
    """Extract the article of `page_html` (fetched from, or originally at, `url`).

    `trust_canonical` accepts the page's canonical URL even on another host (a local file whose
    origin is unknown); otherwise only a same-site canonical URL replaces `url`.
    """
    document = _run_trafilatura(page_html, url, favor_precision=True)
    paragraphs = _body_paragraphs(document, url)
    if sum(len(p.text.split()) for p in paragraphs) < min_words:
        # The precise pass can be too strict on short or unusual pages; try the generous one.
        document = _run_trafilatura(page_html, url, favor_recall=True) or document
        paragraphs = _body_paragraphs(document, url)
    tree = _parse_html(page_html)
    merged = _merge_split_body(tree, url, paragraphs)
    if merged is not None:
        document, paragraphs = merged
    words = sum(len(p.text.split()) for p in paragraphs)
    if words < min_words:
        raise NoArticleFound(url, f"no article text found ({words} words; at least {min_words} needed)")
    metadata = document if document is not None else trafilatura.extract_metadata(page_html, default_url=url)
    paragraphs = _drop_repeated_header(
        paragraphs, getattr(metadata, "title", None), getattr(metadata, "description", None)
    )
    html_lang = _html_lang(page_html)
    guess = detect_language(" ".join(p.text for p in paragraphs), fallback=html_lang)
    published = published_date(tree, url, getattr(metadata, "date", None))
    return ExtractedArticle(
        url=url,
        # trafilatura reports the URL we pass in as the page's URL, so read the canonical link here.
        canonical_url=_canonical(_canonical_link(tree), url, trust_canonical),
        title=_clean_text(getattr(metadata, "title", None)),
        authors=_split_authors(getattr(metadata, "author", None)),
        published_at=published.moment if published else None,
        published_date_only=published.date_only if published else False,
        published_at_source=published.source if published else None,
        genre=original_genre(tree, url),
        outlet=_clean_text(getattr(metadata, "sitename", None)),
        language=guess.language,
        language_probability=guess.probability,
        description=_clean_text(getattr(metadata, "description", None)),
        image_url=_absolute_http(getattr(metadata, "image", None), url),
        paragraphs=paragraphs,
        licence=detect_licence(tree, _json_ld_objects(tree)) if tree is not None else UNKNOWN,
    )


def _run_trafilatura(page_html: str, url: str, **mode: Any) -> Any:
    try:
        return trafilatura.bare_extraction(page_html, url=url, **_TRAFILATURA_OPTIONS, **mode)
    except (ValueError, TypeError, etree.LxmlError) as error:  # trafilatura raises little, but lxml may
        log.warning("trafilatura failed on %s: %s", url, error)
        return None


# Articles split into chunks ---------------------------------------------------------------------
#
# Some sites cut the body into several sibling containers with the same class (an ad or a
# newsletter box between them); trafilatura keeps the first container only. If the container
# of the extracted text has same-class siblings inside the same <article>/<main>, we extract
# again from a page made of all of them, and keep that only if it still starts with the same
# text and is longer.


def _parse_html(page_html: str) -> Any:
    try:
        return lxml.html.document_fromstring(page_html)
    except (etree.ParserError, ValueError):
        return None


def _merge_split_body(tree: Any, url: str, paragraphs: list[Paragraph]) -> tuple[Any, list[Paragraph]] | None:
    if not paragraphs or tree is None:
        return None
    chunks = _sibling_chunks(tree, _comparable(paragraphs[0].text)[:80])
    if len(chunks) < 2:
        return None
    head = tree.find("head")
    head_html = lxml.html.tostring(head, encoding="unicode") if head is not None else ""
    inner = "".join(lxml.html.tostring(chunk, encoding="unicode", with_tail=False) for chunk in chunks)
    candidate = f"<html>{head_html}<body><article>{inner}</article></body></html>"
    document = _run_trafilatura(candidate, url, favor_precision=True)
    merged = _body_paragraphs(document, url)
    words_before = sum(len(p.text.split()) for p in paragraphs)
    words_after = sum(len(p.text.split()) for p in merged)
    if not merged or _comparable(merged[0].text)[:80] != _comparable(paragraphs[0].text)[:80]:
        return None
    return (document, merged) if words_after > 1.2 * words_before else None


def _sibling_chunks(tree: Any, first_key: str) -> list[Any]:
    if not first_key:
        return []
    start = next((el for el in tree.iter("p") if _comparable(el.text_content())[:80] == first_key), None)
    if start is None:
        return []
    container = start.getparent()
    for _level in range(3):
        if container is None:
            return []
        classes = (container.get("class") or "").strip()
        if classes:
            scope = next((a for a in container.iterancestors() if a.tag in {"article", "main"}), None)
            if scope is not None:
                chunks = [
                    el
                    for el in scope.iter(container.tag)
                    if (el.get("class") or "").strip() == classes and el.find(".//p") is not None
                ]
                # Nested matches would duplicate text; keep outermost chunks only.
                chunks = [el for el in chunks if not any(a in chunks for a in el.iterancestors())]
                if len(chunks) > 1:
                    return chunks
        container = container.getparent()
    return []


# Body conversion --------------------------------------------------------------------------------


def _body_paragraphs(document: Any, base_url: str) -> list[Paragraph]:
    body = getattr(document, "body", None)
    if body is None:
        return []
    raw: list[tuple[str, str]] = []
    for element in body:
        _block(element, base_url, raw)
    paragraphs: list[Paragraph] = []
    for kind, fragment in raw:
        # Two line breaks in a row is how many CMSs separate paragraphs inside one <p>.
        pieces = _DOUBLE_BREAK_RE.split(fragment) if kind in {"p", "blockquote"} else [fragment]
        for piece in pieces:
            cleaned = sanitize_inline_html(piece)
            text = html_to_text(cleaned)
            if not text or _is_boilerplate(text):
                continue
            paragraphs.append(Paragraph(kind, cleaned))
    return paragraphs


def _block(element: etree._Element, base_url: str, out: list[tuple[str, str]]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "p":
        out.append(("p", _inline(element, base_url)))
    elif tag == "head":
        level = (element.get("rend") or "h2").lower()
        # h1 is the page title's rank; inside a body it is a section heading.
        out.append((level if level in {"h2", "h3", "h4", "h5", "h6"} else "h2", _inline(element, base_url)))
    elif tag == "list":
        for item in element:
            if item.tag != "item":
                continue
            nested = [child for child in item if child.tag == "list"]
            for child in nested:
                item.remove(child)  # rendered after the item's own text, as items of their own
            out.append(("li", _inline(item, base_url)))
            for child in nested:
                _block(child, base_url, out)
    elif tag == "quote":
        blocks = [child for child in element if child.tag in {"p", "list", "head"}]
        if blocks:
            for child in blocks:
                inner: list[tuple[str, str]] = []
                _block(child, base_url, inner)
                out.extend(("blockquote", fragment) for _, fragment in inner)
        else:
            out.append(("blockquote", _inline(element, base_url)))
    elif tag == "code":
        out.append(("pre", html_lib.escape("".join(element.itertext()), quote=False)))
    elif tag == "table":
        for row in element.iter("row"):
            cells = [_inline(cell, base_url) for cell in row if cell.tag == "cell"]
            out.append(("p", " – ".join(cell for cell in cells if html_to_text(cell))))
    elif tag == "div":
        for child in element:
            _block(child, base_url, out)
    elif tag not in {"graphic", "lb", "fw", "note"}:
        out.append(("p", _inline(element, base_url)))


def _inline(element: etree._Element, base_url: str) -> str:
    """The inner content of `element` as inline HTML (escaped text, links absolute)."""
    parts = [html_lib.escape(element.text or "", quote=False)]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        inner = _inline(child, base_url)
        if tag == "hi":
            name = _HI_TAGS.get(child.get("rend") or "", "")
            parts.append(f"<{name}>{inner}</{name}>" if name else inner)
        elif tag == "ref":
            href = _absolute_http(child.get("target"), base_url)
            parts.append(f'<a href="{html_lib.escape(href)}">{inner}</a>' if href else inner)
        elif tag == "lb":
            parts.append("<br>")
        elif tag in {"list", "p", "quote", "head"}:
            parts.append(" " + inner + " ")
        else:
            parts.append(inner)
        parts.append(html_lib.escape(child.tail or "", quote=False))
    return "".join(parts)


def _is_boilerplate(text: str) -> bool:
    if not _HAS_WORD_RE.search(text):
        return True  # separators and stray punctuation ("___", ".") carry nothing
    return len(text.split()) <= _BOILERPLATE_MAX_WORDS and bool(_BOILERPLATE_RE.match(text.strip()))


def _drop_repeated_header(paragraphs: list[Paragraph], title: str | None, description: str | None) -> list[Paragraph]:
    """Drop leading repeats of the title, and headings repeating the standfirst (stored as metadata).

    A plain paragraph equal to the description stays: sites often use the lead as description.
    """
    title_key = _comparable(title or "")
    description_key = _comparable(description or "")
    start = 0
    while start < len(paragraphs) and start < 3:
        key = _comparable(paragraphs[start].text)
        heading = paragraphs[start].kind != "p"
        if not key or not (key == title_key or (heading and key == description_key)):
            break
        start += 1
    return paragraphs[start:]


def _comparable(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


# HTML fragments (feed content) -----------------------------------------------------------------

_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"}
_CONTAINER_TAGS = {"div", "section", "article", "main", "ul", "ol", "dl", "body", "html", "header", "footer", "span"}
_DROP_TAGS = {"script", "style", "noscript", "iframe", "object", "embed", "form", "button", "svg", "figure", "img"}


def html_fragment_to_paragraphs(fragment: str, base_url: str) -> list[Paragraph]:
    """Paragraphs of an HTML fragment (a feed's `content:encoded`): blocks kept, inline runs joined."""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return [Paragraph.from_text(text)] if (text := _clean_text(fragment)) else []
    for bad in list(root.iter(*_DROP_TAGS)):
        bad.drop_tree()
    root.make_links_absolute(base_url, resolve_base_href=False)
    raw: list[tuple[str, str]] = []
    _walk_html(root, raw, quoted=False)
    paragraphs: list[Paragraph] = []
    for kind, inner in raw:
        cleaned = sanitize_inline_html(inner)
        if html_to_text(cleaned) and not _is_boilerplate(html_to_text(cleaned)):
            paragraphs.append(Paragraph(kind, cleaned))
    return paragraphs


def _walk_html(element: Any, out: list[tuple[str, str]], quoted: bool) -> None:
    pending: list[str] = [html_lib.escape(element.text or "", quote=False)]

    def flush() -> None:
        if "".join(pending).strip():
            out.append(("blockquote" if quoted else "p", "".join(pending)))
        pending.clear()

    for child in element:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in _BLOCK_TAGS and not (tag == "blockquote" or (tag == "li" and _has_blocks(child))):
            flush()
            kind = "h2" if tag == "h1" else tag
            out.append(("blockquote" if quoted and kind == "p" else kind, _inner_html(child)))
        elif tag == "blockquote" or (tag in _CONTAINER_TAGS and _has_blocks(child)) or tag == "li":
            flush()
            _walk_html(child, out, quoted=quoted or tag == "blockquote")
        elif tag == "br" and "".join(pending).rstrip().endswith("<br>"):
            # Two <br> in a row is how many feeds separate paragraphs.
            joined = "".join(pending).rstrip()
            pending[:] = [joined[: -len("<br>")]]
            flush()
        else:
            pending.append(lxml.html.tostring(child, encoding="unicode", with_tail=False))
        pending.append(html_lib.escape(child.tail or "", quote=False))
    flush()


def _has_blocks(element: Any) -> bool:
    return any(isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS for el in element.iterdescendants())


def _inner_html(element: Any) -> str:
    parts = [html_lib.escape(element.text or "", quote=False)]
    parts.extend(lxml.html.tostring(child, encoding="unicode", with_tail=True) for child in element)
    return "".join(parts)


# Metadata helpers -------------------------------------------------------------------------------

_HTML_LANG_RE = re.compile(r"<html[^>]*\slang\s*=\s*[\"']?([A-Za-z_-]+)", re.IGNORECASE)


def _canonical_link(tree: Any) -> str | None:
    if tree is None:
        return None
    for xpath in ('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href',
                  '//meta[@property="og:url"]/@content'):  # fmt: skip
        values = [str(value).strip() for value in tree.xpath(xpath) if str(value).strip()]
        if values:
            return values[0]
    return None


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")


def discover_feeds(page_html: str, base_url: str) -> list[str]:
    """Feed URLs a page announces with `<link rel="alternate" type="application/rss+xml" href>`."""
    tree = _parse_html(page_html)
    if tree is None:
        return []
    found: list[str] = []
    for link in tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")]'):
        if (link.get("type") or "").strip().lower() in _FEED_TYPES and (
            href := _absolute_http(link.get("href"), base_url)
        ):
            found.append(href)
    return list(dict.fromkeys(found))


def _html_lang(page_html: str) -> str | None:
    match = _HTML_LANG_RE.search(page_html[:5000])
    return match.group(1) if match else None


def _clean_text(value: object) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", html_lib.unescape(str(value))).strip()
    return text or None


def _split_authors(value: object) -> list[str]:
    text = _clean_text(value)
    if not text:
        return []
    names = [name.strip() for name in re.split(r";|\s+and\s+|\s*&\s*", text)]
    # trafilatura sometimes reports the publisher as an author ("Condé Nast; Molly Wood").
    return [name for name in dict.fromkeys(names) if name and not re.search(r"https?://", name)]


def _absolute_http(value: object, base_url: str) -> str | None:
    if not value:
        return None
    absolute = urljoin(base_url, str(value).strip())
    return absolute if urlsplit(absolute).scheme in {"http", "https"} else None


def _same_site(host_a: str, host_b: str) -> bool:
    def bare(host: str) -> str:
        return re.sub(r"^(?:www\d*|m|amp|mobile)\.", "", host.lower())

    a, b = bare(host_a), bare(host_b)
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _canonical(candidate: object, url: str, trust: bool = False) -> str:
    """The page's canonical URL if it stays on the same site; else the URL it came from.

    A page claiming another site's URL as canonical (syndication, or an attack on a stored
    article) must not take over that article's identity.
    """
    fallback = normalize_url(url) if url.lower().startswith(("http://", "https://")) else url
    if not candidate:
        return fallback
    absolute = _absolute_http(candidate, url)
    if absolute is not None and trust:
        return normalize_url(absolute)
    if absolute is None or not _same_site(urlsplit(absolute).hostname or "", urlsplit(url).hostname or ""):
        return fallback
    return normalize_url(absolute)


# Page metadata naming the publication time, most trusted first (Open Graph, schema.org microdata,
# Dublin Core and the common CMS tags). Compared lower-case.
_DATE_META_NAMES = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "date",
)


def _json_ld_objects(tree: Any) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page (lists and @graph flattened); unreadable blocks skipped."""
    import json

    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            found.append(value)
            walk(value.get("@graph"))

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text_content() or ""))
        except (ValueError, RecursionError):  # malformed, or nested deeper than anything real
            continue
    return found


def _ld_types(item: dict[str, Any]) -> list[str]:
    types = item.get("@type")
    return [str(t) for t in (types if isinstance(types, list) else [types]) if t]


def published_date(tree: Any, url: str, trafilatura_date: object) -> DatedValue | None:
    """The page's publication time, as precise as the page gives it (see `dates.most_precise`).

    trafilatura alone reports a date-only value (its metadata, or the URL's `/YYYY/MM/DD/`) as
    midnight, and that midnight was shown as a time; here each source keeps its precision."""
    candidates: list[DatedValue | None] = []
    if tree is not None:
        metas: dict[str, str] = {}
        for meta in tree.iter("meta"):
            name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
            content = meta.get("content")
            if name and content and name not in metas:
                metas[name] = content.strip()
        candidates += [dated(metas[name], f"meta:{name}") for name in _DATE_META_NAMES if name in metas]
        for item in _json_ld_objects(tree):
            if any(t.endswith("Article") or t in ("BlogPosting", "Report") for t in _ld_types(item)):
                candidates.append(dated(item.get("datePublished"), "json-ld"))
        for element in tree.xpath("//time[@datetime]"):
            if element.get("itemprop") == "datePublished" or element.get("pubdate") is not None:
                candidates.insert(0, dated(element.get("datetime"), "time-element"))
        first_time = tree.xpath("(//article//time[@datetime] | //header//time[@datetime])[1]/@datetime")
        if first_time:
            candidates.append(dated(first_time[0], "time-element"))
    if trafilatura_date:
        moment = parse_datetime(trafilatura_date)
        # trafilatura writes a date-only finding as midnight: no time was in the source then.
        midnight = moment is not None and (moment.hour, moment.minute, moment.second) == (0, 0, 0)
        candidates.append(dated(trafilatura_date, "trafilatura", date_only=midnight))
    candidates.append(url_date(url))
    return most_precise(candidates)


# The original's genre, as readers know it: a commentary or an analysis is labelled as such.
_GENRE_WORDS = {
    "opinion": "opinion",
    "opinions": "opinion",
    "comment": "opinion",
    "commentary": "opinion",
    "comment is free": "opinion",
    "column": "opinion",
    "columns": "opinion",
    "op-ed": "opinion",
    "editorial": "opinion",
    "analysis": "analysis",
    "news analysis": "analysis",
}
_GENRE_TYPES = {"OpinionNewsArticle": "opinion", "AnalysisNewsArticle": "analysis"}


def original_genre(tree: Any, url: str) -> str | None:
    """`opinion` or `analysis` when the page says so (schema.org type, section, URL path), else None."""
    if tree is None:
        return None
    for item in _json_ld_objects(tree):
        for kind in _ld_types(item):
            if kind in _GENRE_TYPES:
                return _GENRE_TYPES[kind]
        section = item.get("articleSection")
        for value in section if isinstance(section, list) else [section]:
            if isinstance(value, str) and value.strip().lower() in _GENRE_WORDS:
                return _GENRE_WORDS[value.strip().lower()]
    for meta in tree.xpath('//meta[@property="article:section" or @name="article:section"]'):
        value = (meta.get("content") or "").strip().lower()
        if value in _GENRE_WORDS:
            return _GENRE_WORDS[value]
    first_segment = (urlsplit(url).path.strip("/").split("/") or [""])[0].lower()
    return _GENRE_WORDS.get(first_segment)
