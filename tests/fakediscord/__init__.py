"""Tests of the local fake Discord, which lives in ``bot.sandbox.fakediscord``."""
