"""Russian formats where Django's ru locale falls short: a day and month read
"6 декабря" (Django's MONTH_DAY_FORMAT gives "6 Декабрь"); the rest is Django's."""

MONTH_DAY_FORMAT = "j E"
