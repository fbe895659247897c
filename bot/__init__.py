"""The MAG coordination bot: settings, the Discord client, the clock and services."""
