"""The command line's progress bar over fits, on stderr so that stdout stays results."""

import sys


class Progress:
    """A progress bar over fits on stderr: tqdm's if installed, else a counter line.

    The progress object of :class:`sklr.model_selection._chunked.ChunkedSearchMixin`.

    Parameters
    ----------
    description : str
        The text before the bar.
    """

    def __init__(self, description):
        self.description = description
        self.done = 0
        self.total = 0
        self._bar = None

    def start(self, total):
        """Show the bar at 0 of ``total`` fits."""
        self.total = total
        try:
            from tqdm import tqdm
        except ImportError:
            self._show()
        else:
            self._bar = tqdm(total=total, desc=self.description, unit="fit",
                             file=sys.stderr, dynamic_ncols=True)

    def advance(self, n):
        """Count ``n`` more fits done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._show()

    def close(self):
        """End the bar's line."""
        if self._bar is not None:
            self._bar.close()
        elif self.total:
            sys.stderr.write("\n")

    def _show(self):
        percent = 100 * self.done // max(self.total, 1)
        sys.stderr.write(f"\r{self.description}: {self.done}/{self.total} fits "
                         f"({percent}%)")
        sys.stderr.flush()
