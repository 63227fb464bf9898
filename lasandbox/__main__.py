import sys

from lasandbox.cli import main

sys.exit(main())
