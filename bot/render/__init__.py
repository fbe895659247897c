"""Everything that shapes output: embeds and (later) charts."""
