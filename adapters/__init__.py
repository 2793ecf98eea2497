"""Channel adapters (WeChat Official Accounts, Telegram) and the web server they share."""
