"""The package reads the way the data flows: no module imports a stage above its own.

Every module's imports are read with `ast` (those inside functions and `if TYPE_CHECKING:` too)
and each module is placed in a stage; a stage may import its own and lower stages only, and the
stages' import graph has no cycle. Every stage has its own rank: translate sits above ingest,
and the two do not import each other at all (ingest gets the translate stage's checks of a
source's engine and glossary passed in, `presseschau.ingest.sources.SourceChecks`).

Order, lowest first. `presseschau.pipeline.steps` (fetch or translate, then publish) sits below
web: the JSON API polls a source with it, while the rest of the pipeline serves the web app.
`presseschau.app` (AppContext) sits directly above store, not among the
foundations: it owns the lazily migrated `Database`, so below store its very purpose would be an
upward import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "presseschau"

RANKS: dict[str, int] = {
    "foundation": 0,  # content, config, logging_setup, messages, errors, the package's __init__, demo (data)
    "store": 1,
    "app": 2,
    "ingest": 3,
    "translate": 4,
    "stories": 5,  # grouping translated articles into stories across outlets
    "publish": 6,
    "reporting": 7,  # cross-stage read queries: status counts, articles per source, article lists
    "editorial": 8,
    "steps": 9,  # presseschau.pipeline.steps: a stage joined to publishing, for the web API and the workers
    "web": 10,
    "pipeline": 11,
    "cli": 12,  # presseschau/cli/ and __main__.py
}
# Modules placed apart from their package's stage: {module: stage}.
STAGE_OF_MODULE = {"presseschau.pipeline.steps": "steps"}
# Stages that must not import each other in either direction although their ranks would allow one
# way: each does its own work on what the other hands over (through the store and passed-in values).
APART: set[frozenset[str]] = {frozenset({"ingest", "translate"})}
FOUNDATION_MODULES = {
    "presseschau",
    "presseschau.backoff",
    "presseschau.content",
    "presseschau.config",
    "presseschau.logging_setup",
    "presseschau.progress",
    "presseschau.text",
    "presseschau.language_id",
    "presseschau.messages",
    "presseschau.errors",
}
DATA_PACKAGES = {"presseschau.demo"}

# (importing module, imported module) pairs allowed against the order, each with its reason.
# Kept empty: every upward import found so far was moved or turned into a value passed in.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage_of(module: str) -> str:
    parts = module.split(".")
    if module in STAGE_OF_MODULE:
        return STAGE_OF_MODULE[module]
    if module in FOUNDATION_MODULES or any(module == p or module.startswith(p + ".") for p in DATA_PACKAGES):
        return "foundation"
    if module in ("presseschau.__main__", "presseschau.cli") or parts[1] == "cli":
        return "cli"
    if parts[1] in RANKS:
        return parts[1]
    raise AssertionError(f"{module} belongs to no stage: place it in tests/test_layers.py")


def imported_modules(module: str, source: str, is_package: bool, known: Iterable[str]) -> list[tuple[str, int]]:
    """The presseschau modules `module` imports (anywhere in it), each resolved to the longest known
    module name (`from presseschau.publish import site` -> presseschau.publish.site), with its line."""
    known = set(known)

    def resolve(name: str) -> str:
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            names = [f"{origin}.{alias.name}" for alias in node.names]
        else:
            continue
        found.extend((resolve(name), node.lineno) for name in names if name.split(".")[0] == "presseschau")
    return list(dict.fromkeys(found))  # `from x import a, b`: x once


def read_package() -> dict[str, tuple[str, bool]]:
    """{module name: (source, is a package)} for every module of presseschau/."""
    return {
        module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def upward_imports(modules: Mapping[str, tuple[str, bool]]) -> list[str]:
    problems = []
    for module, (source, is_package) in modules.items():
        own = stage_of(module)
        for target, line in imported_modules(module, source, is_package, modules):
            theirs = stage_of(target)
            if RANKS[theirs] > RANKS[own] and (module, target) not in EXCEPTIONS:
                problems.append(f"{module}:{line} ({own}) imports {target} ({theirs})")
    return problems


def imports_between_apart_stages(modules: Mapping[str, tuple[str, bool]]) -> list[str]:
    problems = []
    for module, (source, is_package) in modules.items():
        own = stage_of(module)
        for target, line in imported_modules(module, source, is_package, modules):
            theirs = stage_of(target)
            if frozenset({own, theirs}) in APART and (module, target) not in EXCEPTIONS:
                problems.append(f"{module}:{line} ({own}) imports {target} ({theirs})")
    return problems


def stage_cycles(modules: Mapping[str, tuple[str, bool]]) -> list[list[str]]:
    """Each cycle of the graph "stage A imports stage B" (A != B), as the stages along it."""
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in modules.items():
        own = stage_of(module)
        for target, _ in imported_modules(module, source, is_package, modules):
            if stage_of(target) != own and (module, target) not in EXCEPTIONS:
                graph.setdefault(own, set()).add(stage_of(target))
    cycles: list[list[str]] = []

    def visit(stage: str, path: list[str]) -> None:
        for following in sorted(graph.get(stage, ())):
            if following == path[0]:
                cycles.append([*path, following])
            elif following not in path and following > path[0]:  # each cycle once, from its least stage
                visit(following, [*path, following])

    for start in sorted(graph):
        visit(start, [start])
    return cycles


def test_no_module_imports_a_stage_above_its_own() -> None:
    assert upward_imports(read_package()) == []


def test_ingest_and_translate_import_nothing_of_each_other() -> None:
    assert imports_between_apart_stages(read_package()) == []


def test_the_stages_import_each_other_in_no_cycle() -> None:
    assert stage_cycles(read_package()) == []


def test_every_module_belongs_to_a_stage() -> None:
    for module in read_package():
        assert stage_of(module) in RANKS


# The checks themselves, on made-up modules ---------------------------------------------------


def test_an_upward_import_is_found_also_inside_a_function_and_relative() -> None:
    modules = {
        "presseschau.web.app": ("", False),
        "presseschau.publish": ("", True),
        "presseschau.publish.site": ("", False),
        "presseschau.publish.static": ("def build():\n    from presseschau.web.app import create_app\n", False),
        "presseschau.store.db": ("from ..publish import site\n", False),
        "presseschau.cli.translate": ("import presseschau.web.app\n", False),  # the CLI may
    }
    assert upward_imports(modules) == [
        "presseschau.publish.static:2 (publish) imports presseschau.web.app (web)",
        "presseschau.store.db:1 (store) imports presseschau.publish.site (publish)",
    ]


def test_ingest_importing_translate_and_back_is_found() -> None:
    modules = {
        "presseschau.ingest.sources": ("from presseschau.translate.engines import engine_names\n", False),
        "presseschau.translate.engines": ("from presseschau.ingest import sources\n", True),
    }
    ingest_up = "presseschau.ingest.sources:1 (ingest) imports presseschau.translate.engines (translate)"
    assert upward_imports(modules) == [ingest_up]
    assert imports_between_apart_stages(modules) == [
        ingest_up,
        "presseschau.translate.engines:1 (translate) imports presseschau.ingest.sources (ingest)",
    ]
    assert stage_cycles(modules) == [["ingest", "translate", "ingest"]]


@pytest.mark.parametrize(
    ("module", "stage"),
    [
        ("presseschau.cli", "cli"),
        ("presseschau.__main__", "cli"),
        ("presseschau.cli.editorial", "cli"),
        ("presseschau.cli.pipeline", "cli"),
        ("presseschau.pipeline.demo", "pipeline"),
        ("presseschau.pipeline.steps", "steps"),
        ("presseschau.demo", "foundation"),
        ("presseschau.app", "app"),
        ("presseschau.store.migrations.env", "store"),
    ],
)
def test_modules_are_placed_by_name(module: str, stage: str) -> None:
    assert stage_of(module) == stage


def test_a_module_outside_every_stage_is_refused() -> None:
    with pytest.raises(AssertionError, match="belongs to no stage"):
        stage_of("presseschau.reports")


def test_the_web_may_call_the_pipeline_steps_but_not_the_pipeline_service() -> None:
    modules = {
        "presseschau.pipeline.steps": ("", False),
        "presseschau.pipeline.service": ("", False),
        "presseschau.web.api": (
            "from presseschau.pipeline.steps import fetch_and_publish\nfrom presseschau.pipeline import service\n",
            False,
        ),
    }
    assert upward_imports(modules) == ["presseschau.web.api:2 (web) imports presseschau.pipeline.service (pipeline)"]


# Inside the translate stage: model management below the engines, and no circle ----------------


def module_cycles(modules: Mapping[str, tuple[str, bool]], package: str) -> list[list[str]]:
    """The groups of modules under `package` that import each other in a circle (strongly
    connected components of more than one module), each sorted."""
    inside = {name for name in modules if name == package or name.startswith(package + ".")}
    graph = {
        name: {target for target, _ in imported_modules(name, *modules[name], modules) if target in inside}
        for name in inside
    }

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for following in graph[todo.pop()]:
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        return seen

    reachable = {name: reach(name) for name in sorted(inside)}
    groups = {
        tuple(sorted({name} | {other for other in reachable[name] if name in reachable[other]}))
        for name in inside
        if name in reachable[name]
    }
    return sorted(list(group) for group in groups)


def test_model_management_imports_no_engine() -> None:
    modules = read_package()
    problems = [
        f"{name}:{line} imports {target}"
        for name, (source, is_package) in modules.items()
        if name.startswith("presseschau.translate.models")
        for target, line in imported_modules(name, source, is_package, modules)
        if target.startswith("presseschau.translate.engines")
    ]
    assert problems == []


def test_no_package_has_an_import_circle() -> None:
    # publish.site <-> publish.press_review was the last: the review sees the site through a Protocol.
    modules = read_package()
    packages = sorted({".".join(name.split(".")[:2]) for name in modules if name.count(".") >= 1})
    assert {package: cycles for package in packages if (cycles := module_cycles(modules, package))} == {}


def test_an_import_circle_inside_a_package_is_found() -> None:
    modules = {
        "presseschau.translate.models.catalog": ("from presseschau.translate.models import firefox_records\n", False),
        "presseschau.translate.models.firefox_records": (
            "def meta():\n    from presseschau.translate.models.catalog import ModelMeta\n",
            False,
        ),
        "presseschau.translate.models.meta": ("", False),
        "presseschau.translate.engines.ct2": ("from presseschau.translate.models import catalog\n", False),
    }
    assert module_cycles(modules, "presseschau.translate") == [
        ["presseschau.translate.models.catalog", "presseschau.translate.models.firefox_records"]
    ]
