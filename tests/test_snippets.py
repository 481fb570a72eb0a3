"""Every Python snippet of the README and the docs runs, without stray warnings.

The snippets are the ```` ```python ```` blocks of ``README.md`` and the
``.. code-block:: python`` blocks of ``docs/*.rst`` and
``docs/user_guide/*.rst``. The blocks of one file run in order in one shared
namespace (a later block uses what an earlier one defined), in a fresh
working directory (for the files they write), with matplotlib drawing off
screen.

Warnings are errors: a snippet shows code that runs clean, unless it asks
for a warning itself (``warnings.catch_warnings``, ``pytest.warns``...),
whose own filters then apply.

A block that cannot run here (it needs a file a command made, or a cluster)
is skipped only when marked so, on a line of its own before it: in
reStructuredText the comment ``.. skip-snippet: why``, in Markdown
``<!-- skip-snippet: why -->``; neither shows in the rendered page.
"""

import re
import textwrap
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst")),
           *sorted((ROOT / "docs" / "user_guide").glob("*.rst"))]

SKIP_MARKER = re.compile(r"^\s*(\.\. |<!-- )skip-snippet\b")


def _markdown_blocks(lines):
    """``(line number, code, skipped)`` of the ```` ```python ```` blocks."""
    blocks, start, skip = [], None, False
    for number, line in enumerate(lines, 1):
        if start is None:
            if line.strip() == "```python":
                start, skip = number, _marked(lines, number - 1)
        elif line.strip() == "```":
            blocks.append((start, "\n".join(lines[start:number - 1]), skip))
            start = None
    return blocks


def _rst_blocks(lines):
    """``(line number, code, skipped)`` of the ``.. code-block:: python`` blocks."""
    blocks = []
    for number, line in enumerate(lines, 1):
        directive = re.match(r"^(\s*)\.\. code-block:: python\s*$", line)
        if not directive:
            continue
        indent = len(directive.group(1))
        body, end = [], number
        # directive options (":caption: ..."), then the indented content
        while end < len(lines) and lines[end].strip().startswith(":"):
            end += 1
        for text in lines[end:]:
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break
            body.append(text)
        blocks.append((number, textwrap.dedent("\n".join(body)).strip("\n"),
                       _marked(lines, number - 1)))
    return blocks


def _marked(lines, index):
    """Whether the non-blank line before ``lines[index]`` is a skip marker."""
    for line in reversed(lines[:index]):
        if line.strip():
            return bool(SKIP_MARKER.match(line))
    return False


def snippets(path):
    """The Python blocks of ``path``: ``(line number, code, skipped)``."""
    lines = path.read_text().splitlines()
    return (_markdown_blocks if path.suffix == ".md" else _rst_blocks)(lines)


SNIPPET_FILES = [path for path in SOURCES if snippets(path)]


def test_the_extraction_finds_blocks_and_markers():
    rst = textwrap.dedent("""\
        .. code-block:: python

            x = 1

            y = x + 1

        Text.

        .. skip-snippet: needs a cluster

        .. code-block:: python
           :caption: not run

           connect()
        """).splitlines()
    assert _rst_blocks(rst) == [(1, "x = 1\n\ny = x + 1", False),
                                (11, "connect()", True)]
    markdown = ["```python", "a = 1", "```", "<!-- skip-snippet: why -->", "",
                "```python", "b()", "```", "```console", "c", "```"]
    assert _markdown_blocks(markdown) == [(1, "a = 1", False), (6, "b()", True)]


def test_the_readme_and_the_user_guide_have_snippets():
    names = {path.name for path in SNIPPET_FILES}
    assert {"README.md", "quickstart.rst", "divergence.rst"} <= names


@pytest.mark.parametrize("path", SNIPPET_FILES,
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_snippets_run_clean(path, tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__snippet__"}
    # one session per file: a filter a snippet sets holds for the next ones
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            for line, code, skipped in snippets(path):
                if skipped:
                    continue
                try:
                    exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
                except Exception as error:
                    raise AssertionError(
                        f"the snippet of {path.name} at line {line} failed: "
                        f"{type(error).__name__}: {error}") from error
        finally:
            plt.close("all")
