"""The hosted pages: client apps' sign-in, registration and logout (seed 003), the admin
sign-in and enrolment pages, and ``/docs``; server-rendered (Jinja2 ``templates/``,
``static/``), with HTML error pages. Their routes are declared in
:mod:`keyfob.server.pages.routes`."""
