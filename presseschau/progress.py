"""How long-running stage functions (fetching, importing, translating, building) report progress.

`progress(n, note)`: `n` more items are done, `note` names the last one (a source, a title) or
is None. The CLI passes its progress bar's `advance`; the other callers pass nothing.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, str | None], None]
