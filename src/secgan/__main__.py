"""``python -m secgan`` runs the command line."""

import sys

from secgan.cli import main

if __name__ == "__main__":
    sys.exit(main())
