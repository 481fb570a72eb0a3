"""Run the command line as ``python -m sklr``."""

import sys

from sklr.cli import main

if __name__ == "__main__":
    sys.exit(main())
