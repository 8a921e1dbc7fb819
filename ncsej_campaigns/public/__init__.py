"""Public pages, the signed-in dashboard, language choice and the health check."""
