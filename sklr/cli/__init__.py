"""The ``sklr`` command line: learning-rate tuning of a quick tabular experiment.

``sklr tune`` cross-validates a grid (or a random sample) of optimizers x
schedules x learning rates for one sklr estimator inside a preprocessing
``Pipeline`` and prints a leaderboard; ``sklr find-lr`` runs the LR range
test. Both read a CSV file with pandas or, without one, use scikit-learn's
bundled digits data. Bad use ends with exit status 2 and one line on stderr.

The modules: ``_parsing`` (options), ``_data`` (reading and preprocessing),
``_progress`` (the progress bar), ``_report`` (leaderboard, JSON, plots) and
``_commands`` (the commands). The searches that report progress are in
:mod:`sklr.model_selection._chunked`.
"""

import functools
import os
import sys
import warnings

from sklr.cli._commands import find_lr, tune
from sklr.cli._parsing import CLIError, build_parser

# where the module before the split into a package had it
from sklr.cli._progress import Progress as _Progress  # noqa: F401

__all__ = ["main"]

_COMMANDS = {"tune": tune, "find-lr": find_lr}


def _show_warning(shown, message, category, filename, lineno, file=None, line=None):
    """Print a warning as a one-line note, like the command's own.

    Unless ``shown`` is None (``-v``), a warning already in the set ``shown``
    is left out: steps that run once per chunk of a search, such as splitting
    the folds, would repeat theirs. The searches summarize their fits'
    warnings, naming their ``verbose=2`` as the way to see each one: the
    command's is ``-v``.
    """
    text = " ".join(str(message).split()).replace(
        "(verbose=2 shows each one)", "(-v shows each one)")
    if shown is not None:
        if text in shown:
            return
        shown.add(text)
    print(f"sklr: warning: {text}", file=sys.stderr if file is None else file)


def main(argv=None):
    """Run the ``sklr`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for bad use or unusable data (after one line on
        stderr), 130 when interrupted, 141 (as a shell reports SIGPIPE)
        when the program reading the output closed it early.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command: tune or find-lr")
    with warnings.catch_warnings():
        warnings.showwarning = functools.partial(
            _show_warning, None if getattr(args, "verbose", False) else set())
        try:
            return _COMMANDS[args.command](args)
        except BrokenPipeError:
            # the reader left (``sklr tune | head``): not an error of ours;
            # stdout goes to devnull so that flushing it at exit is silent too
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except (CLIError, ValueError, OSError, MemoryError) as exc:
            # data problems surface as ValueErrors from pandas and scikit-learn,
            # too large ones as MemoryErrors; their messages can span lines
            message = " ".join(str(exc).split()) or type(exc).__name__
            if isinstance(exc, MemoryError):
                message = f"out of memory: {message}"
            print(f"sklr: error: {message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("sklr: interrupted", file=sys.stderr)
            return 130
