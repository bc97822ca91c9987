import sys

from mdr.cli import main

sys.exit(main())
