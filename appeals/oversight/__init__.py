"""What management watches: the figures of the staff dashboard."""
