"""`quality score`: reference-free risk scores for translated paragraphs (files in, one line out each).

    presseschau quality score --from en --to de SRC.txt MT.txt

Each line of SRC.txt is one source paragraph, the same line of MT.txt its translation. Each output line
is the paragraph's risk in [0, 1] (higher = riskier; 0.5 and above is risky) and the names of its flags,
tab-separated. `--json` prints one JSON object per paragraph instead, with the German explanations and
the words concerned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from presseschau.cli.output import REFUSED, exit_on, fail
from presseschau.cli.root import app
from presseschau.translate.glossary import Glossary, GlossaryError
from presseschau.translate.quality import QualityOptions, estimate_paragraphs

quality_app = typer.Typer(help="Translation quality: risk scores and flags without a reference.", no_args_is_help=True)
app.add_typer(quality_app, name="quality")


def _read_lines(path: Path, role: str) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise fail(f"{role} file {path}: cannot be read ({error.strerror or error})", REFUSED) from None
    except UnicodeDecodeError as error:
        raise fail(f"{role} file {path}: not UTF-8 (byte {error.start})", REFUSED) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return [line.rstrip("\r") for line in lines]


@quality_app.command("score")
def score_command(
    source_file: Annotated[Path, typer.Argument(help="Source paragraphs, one per line (UTF-8).")],
    translation_file: Annotated[Path, typer.Argument(help="Their translations, one per line, in the same order.")],
    source_language: Annotated[str, typer.Option("--from", help="Language of the source.")] = "en",
    target_language: Annotated[str, typer.Option("--to", help="Language of the translation.")] = "de",
    glossary: Annotated[
        Path | None, typer.Option(help="A glossary file (TSV or TOML): its terms must be honoured.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per paragraph, with explanations.")] = False,
) -> None:
    """Risk score and flags per paragraph: the score, then the flag names, tab-separated."""
    sources = _read_lines(source_file, "source")
    translations = _read_lines(translation_file, "translation")
    # Blank lines at the end of one file only (an editor's extra newline) are no paragraphs.
    while len(sources) > len(translations) and not sources[-1].strip():
        sources.pop()
    while len(translations) > len(sources) and not translations[-1].strip():
        translations.pop()
    if len(sources) != len(translations):
        raise fail(
            f"{source_file} has {len(sources)} lines, {translation_file} has {len(translations)}: "
            "each source paragraph needs its translation on the same line",
            REFUSED,
        )
    terms: tuple[tuple[str, str], ...] = ()
    if glossary is not None:
        with exit_on(GlossaryError, OSError, code=REFUSED):
            terms = tuple((term.source, term.target) for term in Glossary.load(glossary).terms)
    options = QualityOptions(source_language.lower(), target_language.lower(), terms)
    for quality in estimate_paragraphs(list(zip(sources, translations, strict=True)), options):
        if as_json:
            typer.echo(json.dumps(quality.to_json(), ensure_ascii=False))
        else:
            typer.echo("\t".join([f"{quality.risk:.4f}", *quality.flag_names]))
