import sys

from servicebook.cli import main

sys.exit(main())
