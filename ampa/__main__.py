import sys

from ampa.cli import main

sys.exit(main())
