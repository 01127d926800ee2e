"""The `presseschau` command line: a thin layer over the stage services.

`root` holds the main command and its global options; each stage module defines its commands at
module level on `root.app` or on a group of it, in the order of the data flow. Importing them here
registers them. Errors go through `output.fail`: one line on stderr, exit status 1 (the work failed)
or 2 (the input was refused); storage faults end with status 3 (`root`).
"""

from __future__ import annotations

import importlib
import logging
import sys

from presseschau.cli.params import bound_numbers
from presseschau.cli.root import STORAGE_FAULT_EXIT, app, hoist_global_options

# In the order of the data flow, which is the order `presseschau --help` lists them in.
STAGE_MODULES = (
    "ingest",
    "articles",
    "translate",
    "quality",
    "stories",
    "publish",
    "web",
    "pipeline",
    "demo",
    "editorial",
    "backup",
)
for _module in STAGE_MODULES:
    importlib.import_module(f"presseschau.cli.{_module}")
bound_numbers(app)  # every whole-number argument within what a row ID can hold (see cli.params)

__all__ = ["STORAGE_FAULT_EXIT", "app", "hoist_global_options", "main"]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        logging.getLogger("presseschau").warning("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
