"""`python -m slipstream.cli`: the `slipstream` command."""

import sys

from slipstream.cli import main

sys.exit(main())
