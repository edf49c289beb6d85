"""Dashboard pages: one module per area (overview, chats, bots, settings, turns) plus login."""
