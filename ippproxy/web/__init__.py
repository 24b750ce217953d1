"""The HTTP admin and user side: the REST API under ``/api/v1`` (OpenAPI from pydantic
models) and the server-rendered pages under ``/admin``; both call ``ippproxy.services``.

Every route is denied unless it is explicitly allowed; who is asking is proven here (session
cookie or API token) and handed to the services as an ``Actor`` (``web.identity``).
"""
