"""`python -m mdnlib COMMAND ...`: see `mdnlib.cli`."""
from mdnlib.cli import main

raise SystemExit(main())
