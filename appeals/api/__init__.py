"""The REST API for other state systems (version 1, under /api/v1/)."""
