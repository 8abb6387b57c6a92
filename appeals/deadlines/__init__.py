"""Time limits: working-day arithmetic on the Kyrgyz calendar, the rules of the law,
extensions, and the daily sweep's reminders and escalation."""
