"""``python -m pricegym``: the same command line as ``pricegym``."""

import sys

from pricegym.cli import main

sys.exit(main())
