"""Sphinx configuration of the sklr documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html``. Two
environment variables adjust the build:

``SKLR_DOCS_PLOT_GALLERY``
    ``0`` renders the example gallery without running the examples, and so
    without figures (faster); by default they run, which takes under a
    minute.
``SKLR_DOCS_INTERSPHINX``
    ``1`` links to the scikit-learn, NumPy, SciPy and Python documentation.
    It is off by default because fetching the inventories needs network
    access; without them, such references render as plain text.
"""

import os

import sklr

project = "sklr"
author = "The sklr developers"
copyright = "The sklr developers"
release = sklr.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
html_static_path = []
html_theme = "alabaster"
html_title = f"sklr {release}"

# --------------------------------------------------------------- API pages
autosummary_generate = True
# Document sklr's own methods, also where a base class of sklr defines them,
# but not those inherited from scikit-learn, whose docstrings refer to
# scikit-learn's documentation; metadata-routing setters are generated.
autodoc_default_options = {
    "members": True,
    "inherited-members": ",".join([
        "_MetadataRequester", "BaseEstimator", "RegressorMixin", "ClassifierMixin", "MultiOutputMixin",
        "MetaEstimatorMixin", "BaseSearchCV", "GridSearchCV", "RandomizedSearchCV",
        "BaseSuccessiveHalving",
    ]),
    "exclude-members": ",".join(
        f"set_{method}_request"
        for method in ("fit", "partial_fit", "predict", "score", "transform")
    ),
}
# numpydoc lists the members; autosummary stubs for each would be redundant
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

# ------------------------------------------------------------- intersphinx
if os.environ.get("SKLR_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }
else:
    intersphinx_mapping = {}

# ----------------------------------------------------------------- gallery
plot_gallery = os.environ.get("SKLR_DOCS_PLOT_GALLERY", "1") != "0"
if not plot_gallery:
    # the user guide shows figures the examples draw, absent in this mode
    suppress_warnings = ["image.not_readable"]
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": plot_gallery,
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}


# ------------------------------------------------------- tables of names
def _write_name_tables():
    """Write the user guide's tables of optimizer and schedule names from the
    registries, the single list of names (included from ``_generated/``)."""
    from pathlib import Path

    from sklr.optimizers import OPTIMIZER_ALIASES
    from sklr.schedules import SCHEDULE_ALIASES

    folder = Path(__file__).parent / "_generated"
    folder.mkdir(exist_ok=True)
    for filename, registry, column in (
            ("optimizer_names.rst", OPTIMIZER_ALIASES, "what it does"),
            ("schedule_names.rst", SCHEDULE_ALIASES, "multiplier")):
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 35 45", "",
                 "   * - name", "     - object", f"     - {column}"]
        for name, obj in registry.items():
            cls = type(obj)
            text = repr(obj)
            shown = (f":class:`~{cls.__module__}.{cls.__name__}`"
                     if text == f"{cls.__name__}()" else f"``{text}``")
            lines += [f'   * - ``"{name}"``', f"     - {shown}",
                      f"     - {registry.summary(name)}"]
        (folder / filename).write_text("\n".join(lines) + "\n")


_write_name_tables()
