"""The web pages: member homepage, editor review, policy view and login.

``artwork.web.routes`` gathers the routers defined here (one module per page family) into
the one router the app (:mod:`artwork.app`) includes; templates live in ``web/templates``,
the stylesheet and script in ``web/static``.
"""
