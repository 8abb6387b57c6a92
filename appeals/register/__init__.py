"""The register itself: an appeal's identifiers (tracking numbers, access codes), its
registration numbers, its history and the locking every change of state goes through,
and who may see and do what."""
