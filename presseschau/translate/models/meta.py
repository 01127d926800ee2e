"""What presseschau records beside an installed model: `presseschau-model.json`.

Its own module so that the catalog and Mozilla's records (`firefox_records`) both write it
without importing each other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

META_FILE = "presseschau-model.json"


@dataclass
class ModelMeta:
    name: str
    format: Literal["ct2", "firefox"] = "ct2"
    source_languages: list[str] = field(default_factory=lambda: ["en"])
    target_languages: list[str] = field(default_factory=lambda: ["de"])
    max_input_tokens: int = 200
    license: str | None = None
    origin: str | None = None
    sha256: str | None = None
    language_tokens: str | None = None
    source_spm: str = "source.spm"
    target_spm: str = "target.spm"
    # Firefox models: architecture (tiny, base, base-memory), Mozilla's version, published
    # quality, and the role of each file (model, source_vocab, target_vocab, shortlist).
    architecture: str | None = None
    version: str | None = None
    quality: str | None = None
    files: dict[str, str | None] | None = None

    @classmethod
    def read(cls, model_dir: Path) -> ModelMeta:
        path = model_dir / META_FILE
        if not path.is_file():
            return cls(name=model_dir.name)
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def write(self, model_dir: Path) -> None:
        (model_dir / META_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
