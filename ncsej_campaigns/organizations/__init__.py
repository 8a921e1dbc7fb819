"""The coalition: member organizations, federations and partners."""
