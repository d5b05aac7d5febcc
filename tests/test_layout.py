"""The package's layout: subpackages are the pipeline's stages, and imports run down them."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ser"
# The stages in order: a module may import its own stage, an earlier one, or the
# foundation modules at the top of the package, never a later stage.
STAGES = ["data", "models", "features", "inference", "training", "evaluation", "reporting", "app"]
FOUNDATION = {"config", "environment", "scoring"}


def stage_of(module: str) -> int:
    """The rank of ``ser.<stage>...``; -1 for the foundation modules."""
    parts = module.split(".")
    if parts[0] != "ser" or len(parts) == 1:
        raise ValueError(module)
    if parts[1] in FOUNDATION:
        return -1
    return STAGES.index(parts[1])


def imported_modules(path: Path) -> set[str]:
    """Every ``ser`` module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ser"):
            if node.module == "ser":
                found |= {f"ser.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ser.")}
    return found


def package_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_lives_in_a_stage_or_the_foundation():
    for path in package_modules():
        name = module_name(path)
        if name != "ser":
            stage_of(name)  # raises for a module outside the layout


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: module_name(p))
def test_imports_run_down_the_stages(path):
    name = module_name(path)
    if name == "ser":
        return
    upward = [m for m in imported_modules(path) if stage_of(m) > stage_of(name)]
    assert not upward, f"{name} imports a later stage: {sorted(upward)}"


def test_the_rule_catches_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ser.reporting.plots import plot_history\n")
    assert stage_of("ser.models.heads") < max(stage_of(m) for m in imported_modules(module))
