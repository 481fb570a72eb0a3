"""The shape of the package: imports run one way, private scikit-learn API in one shim."""

import ast
from pathlib import Path

import pytest

import sklr

PACKAGE = Path(sklr.__file__).parent

# Lower layers never import higher ones (imports inside functions count too).
LAYERS = [
    ["sklr._compat", "sklr.exceptions", "sklr._registry", "sklr._callbacks"],
    ["sklr._rows"],
    ["sklr._engine"],
    ["sklr._models", "sklr._losses", "sklr.optimizers", "sklr.schedules"],
    ["sklr._sweep"],
    ["sklr._base", "sklr.linear_model", "sklr.neural_network"],
    ["sklr.lr_finder", "sklr.diagnostics", "sklr.model_selection"],
    ["sklr.inspection"],
    ["sklr.cli", "sklr.__main__", "sklr", "sklr.utils", "sklr._persistence"],
]


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module, node):
    """The sklr modules an import statement in ``module`` names."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = package
        for _ in range(node.level - 1):
            anchor = anchor.rpartition(".")[0]
        base = f"{anchor}.{base}" if base else anchor
    # "from sklr import lr_finder" names a module, "from sklr import diagnose" its package
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names]


def _imports():
    edges = {}
    for module, path in MODULES.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets.update(t for t in _resolve(module, node)
                               if t in MODULES and t != module)
        edges[module] = targets
    return edges


IMPORTS = _imports()


def _layer(module):
    for rank, layer in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in layer
               if name != "sklr"):
            return rank
    assert module == "sklr", f"{module} belongs to no layer: add it to LAYERS"
    return len(LAYERS) - 1


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)


def test_imports_run_downwards():
    upward = [(source, target) for source, targets in IMPORTS.items()
              for target in targets if _layer(target) > _layer(source)]
    assert upward == []


def _cycles(edges):
    """Every cycle that a depth-first walk of ``edges`` closes."""
    state, cycles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycle():
    assert _cycles(IMPORTS) == []


def test_the_cycle_check_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def _private_sklearn_uses(path):
    """Imports from private scikit-learn modules or names, and private attributes
    read from names imported from scikit-learn."""
    tree = ast.parse(path.read_text())
    from_sklearn, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
            if any(part.startswith("_") for part in node.module.split(".")):
                found.append(f"from {node.module} import ...")
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
                from_sklearn.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn") and any(
                        part.startswith("_") for part in alias.name.split(".")):
                    found.append(f"import {alias.name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in from_sklearn and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"sklr._compat"}))
def test_private_sklearn_api_only_in_the_shim(module):
    assert _private_sklearn_uses(MODULES[module]) == []


def test_the_private_api_check_finds_what_it_looks_for(tmp_path):
    path = tmp_path / "example.py"
    path.write_text(
        "from sklearn.utils._param_validation import Interval\n"
        "from sklearn.utils.validation import _check_sample_weight\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "constraints = GridSearchCV._parameter_constraints\n")
    assert len(_private_sklearn_uses(path)) == 3


def test_the_api_page_lists_every_public_class():
    from sklr.utils.discovery import all_estimators, all_optimizers, all_schedules

    api = (PACKAGE.parent / "docs" / "api.rst")
    if not api.exists():
        pytest.skip("run from a checkout: the docs are not installed")
    listed = {line.strip() for line in api.read_text().splitlines()}
    for _, cls in all_estimators() + all_optimizers() + all_schedules():
        assert cls.__name__ in listed, f"docs/api.rst does not list {cls.__name__}"
