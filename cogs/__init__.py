"""Discord-facing code: slash commands, modals, views. Thin: parse, call a service, render.

Every public module here is an extension loaded at start (``setup(bot)``);
modules whose name starts with ``_`` are helpers.
"""
