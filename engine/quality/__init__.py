"""Conversation quality: figures over a chat's transcript (pure functions), their bands, and one loader."""
