"""Root test configuration. Package-specific fixtures live in tests/<package>/conftest.py.

The real printers (ippeveprinter with its private D-Bus, a private cupsd, the virtual printer)
come from ``testprinters.pytest_plugin``; the throwaway PostgreSQL cluster from
``tests/support/postgres.py``.

Hypothesis profiles: ``default`` in `make test`; ``soak`` (``HYPOTHESIS_PROFILE=soak``, set
by `make soak`) runs ``SOAK_SCALE`` times the examples (tests/support/soak.py): property
tests with a count of their own ask ``support.soak.examples(n)``.
"""

from argon2 import PasswordHasher
from hypothesis import settings
from support.soak import PROFILE, SCALE

import ippproxy.accounting.users

pytest_plugins = ["testprinters.pytest_plugin"]

settings.register_profile("soak", max_examples=settings.default.max_examples * SCALE,
                          deadline=None)
settings.load_profile(PROFILE)

# Passwords and PINs hashed in the test processes at the lowest argon2id cost: the product's
# (argon2-cffi's RFC 9106 profile, 64 MiB and 3 passes) takes about 0.12 s per hash or check
# here, thousands of times per suite. A hash carries its parameters, so checks follow.
# Servers started as subprocesses keep the product's cost, and
# tests/accounting/test_acct_password_cost.py reads what a real `ippproxy cmd` stores.
ippproxy.accounting.users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def pytest_sessionfinish() -> None:
    """Quit the idle Chromiums of this process (tests/support/browser.py keeps them between
    tests); atexit alone does not run when an xdist worker is ended."""
    import sys
    browser = sys.modules.get("support.browser")
    if browser is not None:
        browser.quit_idle()
