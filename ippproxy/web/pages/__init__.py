"""The admin web app's pages under ``/admin``: server-rendered Jinja2 (``web/templates``),
htmx vendored in ``web/static`` (no build step), charts as inline SVG made on the server
(``charts.py``), live activity by server-sent events (``live.py``).

Every handler reads the request's proven ``Actor`` (``web.identity``) and answers 401
without one; the services decide what that actor may see or change. State-changing
forms carry the session's CSRF token (``guard.py``).
"""
