"""Kyrgyz number format as the chancellery publishes it: "16,5 %" (decimal comma).
Django's own ky locale uses a point; dates keep Django's ky formats."""

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3
