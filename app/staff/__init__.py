"""Staff sign-in to the dashboard: an API token or OpenID Connect, and the staff session."""
