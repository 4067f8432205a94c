"""capture/sources."""
