import sys

from ser.app.cli import main

sys.exit(main())
