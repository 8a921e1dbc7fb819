"""Audit log: who changed what, and when."""
