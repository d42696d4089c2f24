import sys

from torngas.cli import main

sys.exit(main())
