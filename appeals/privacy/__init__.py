"""Personal data: its removal after the retention period."""
