"""What each endpoint does, in terms of the domain rules and the store's intents."""
