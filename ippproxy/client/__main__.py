"""``python -m ippproxy.client``: the same as the ``ippproxy-client`` command."""

import sys

from ippproxy.client.cli import main

sys.exit(main())
