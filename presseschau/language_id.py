"""One language identifier per process (py3langid's model, ~0.4 s to load): the full one for article
bodies (`presseschau.ingest.language`) and copies restricted to a language pair for the quality
estimate (`presseschau.translate.quality`), which share the loaded model's arrays."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def full_identifier() -> Any:
    """The identifier over every language py3langid knows, with normalised probabilities."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=8)
def restricted_identifier(languages: tuple[str, ...]) -> Any:
    """An identifier that chooses among `languages` only. A shallow copy of the full one:
    `set_languages` builds its own sliced arrays and leaves the full model as it is."""
    identifier = copy.copy(full_identifier())
    identifier.set_languages(list(languages))
    return identifier
