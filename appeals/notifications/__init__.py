"""The outbox: notices to citizens (e-mail, SMS) and staff, and API clients' callbacks,
written with their cause and delivered after commit."""
