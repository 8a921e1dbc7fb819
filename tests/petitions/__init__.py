"""Petitions: the public side, counting, and the coordinators' tools."""
