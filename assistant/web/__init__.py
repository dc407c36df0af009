"""The web UI's building blocks: rendering, the session's view of the API, documents."""
