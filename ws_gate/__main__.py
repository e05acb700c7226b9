import sys

from ws_gate.cli import main

sys.exit(main())
