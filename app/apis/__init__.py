"""The REST API: one ``ModelRestApi`` per domain under ``/api/v1/<resource>/``."""
