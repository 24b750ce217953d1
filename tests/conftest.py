"""Root test configuration. Package-specific fixtures live in tests/<package>/conftest.py.

The real printers (ippeveprinter with its private D-Bus, a private cupsd, the virtual printer)
come from ``testprinters.pytest_plugin``; the throwaway PostgreSQL cluster from
``tests/support/postgres.py``.

Hypothesis profiles: ``default`` in `make test`; ``soak`` (``HYPOTHESIS_PROFILE=soak``, set
by `make soak`) runs ``SOAK_SCALE`` times the examples (tests/support/soak.py): property
tests with a count of their own ask ``support.soak.examples(n)``.
"""

from hypothesis import settings
from support.soak import PROFILE, SCALE

pytest_plugins = ["testprinters.pytest_plugin"]

settings.register_profile("soak", max_examples=settings.default.max_examples * SCALE,
                          deadline=None)
settings.load_profile(PROFILE)


def pytest_sessionfinish() -> None:
    """Quit the idle Chromiums of this process (tests/support/browser.py keeps them between
    tests); atexit alone does not run when an xdist worker is ended."""
    import sys
    browser = sys.modules.get("support.browser")
    if browser is not None:
        browser.quit_idle()
