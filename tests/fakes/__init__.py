"""Local fake servers for the providers the service talks to (127.0.0.1 only)."""
