"""quarry over HTTP: ``POST /ask``, ``GET /health``, ``GET /documents``, ``GET /context`` and the page at ``/``."""
