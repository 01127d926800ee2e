"""The translate stage's checks of a source's settings, handed to ingest's source writes.

`SOURCE_CHECKS` fits `presseschau.ingest.sources.SourceChecks` by shape (ingest and translate do
not import each other); the CLI, the admin and the API pass it to `create_source`,
`update_source` and `import_opml`.
"""

from __future__ import annotations

from presseschau.translate.engines import check_engine_name
from presseschau.translate.glossary import format_glossary_additions, parse_glossary_additions


class TranslateSourceChecks:
    def engine(self, name: str) -> str | None:
        """`name` when it is a registered engine, else `UnknownEngine` (a `ValueError`)."""
        return check_engine_name(name)

    def glossary(self, terms: dict[str, str]) -> dict[str, str]:
        """The additions normalized; `GlossaryInputError` (a `ValueError`) names an unusable line."""
        # The editor's text format is the one validated form: a dict goes through it too.
        return parse_glossary_additions(format_glossary_additions(terms))


SOURCE_CHECKS = TranslateSourceChecks()
