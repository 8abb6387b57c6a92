"""The API's documentation page: Swagger UI from drf-spectacular-sidecar (no CDN).

The split view serves its start-up script as a file, so the portal's CSP (no inline
script) holds; Swagger UI sets style attributes, so this page alone allows them.
"""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView


@method_decorator(
    csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]}),
    name="dispatch",
)
class DocsView(SpectacularSwaggerSplitView):
    authentication_classes = []
    permission_classes = []
