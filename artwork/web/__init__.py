"""The web pages: member homepage, editor review, policy view and login.

``artwork.api.routes.pages`` includes the routers defined here (one module per page family)
into the app; templates live in ``web/templates``, the stylesheet and script in ``web/static``.
"""
