"""Who is calling: authentication (JWT, API keys), scopes, and the identity rate limits count by."""
