"""The worker portal (门户): server-rendered pages over the services, on the API's app.

``app.create_app`` is the whole service (``suiren serve``): the API under ``/api/v1`` and
these pages at ``/``. ``pages`` holds the routes, ``session`` the cookie and CSRF check,
``render`` the templates, ``text`` what the pages say, ``i18n`` in which language (Chinese by
default, or English) from the catalogs under ``locale/``.
"""
