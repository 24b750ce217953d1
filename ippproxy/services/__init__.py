"""The operations admins and users perform, with no HTTP in them.

The REST API, the web pages and ``ippproxy cmd`` all call these: one validation, one set of
errors (``services.errors``), one audit entry per change, whichever way an admin comes in.
Every operation takes the ``Actor`` (``services.actor``) that performs it and checks its
rights first: nothing is allowed unless a section grants it.
"""
