"""The quality team's dashboard: staff sign-in (API token or OpenID Connect), the session
API the browser uses, and the pages. Every figure and action on the pages goes through the
same REST API that other clients use."""
