"""instruments layer (see DESIGN.md)."""
