"""monitor: watch news feeds and Telegram channels, match Arabic-aware rules, alert on chat."""

__version__ = "0.1.0"
