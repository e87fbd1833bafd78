"""`python -m itirp_client.cli`: the same as `itirp-cli`."""

import sys

from itirp_client.cli.app import main

sys.exit(main())
