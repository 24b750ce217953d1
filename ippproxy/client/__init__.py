"""``ippproxy-client``: the user's client (issue 17 point 4; the seed's User Client).

It runs on the user's own computer (Linux, macOS, Windows), so it imports nothing of the
server side (``.importlinter`` contract ``client-standalone``): stdlib and aiohttp only, and
no platform-only module at module level. It talks to the server only through the HTTP
contract of ``/api/v1`` (docs/user-client.md):

* ``POST /api/v1/session`` logs in (``login.py``); the session it answers is the user's
  token, kept in the user's config directory, readable by the user only (``store.py``);
* ``GET /api/v1/me/events`` is one long-lived server-sent-event stream (``sse.py`` parses
  it, ``stream.py`` keeps it open and reconnects with backoff and ``Last-Event-ID``);
* ``POST /api/v1/me/jobs/{uuid}/account`` and ``.../confirm`` answer the popups
  (``answers.py``), which ``popups.py`` shows in the terminal (``notify.py``: desktop
  notifications where ``notify-send`` exists).
"""
