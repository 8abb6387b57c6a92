"""Staff accounts: two-factor login and the middleware that holds it on every page."""
