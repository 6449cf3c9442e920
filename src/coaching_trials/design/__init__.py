"""design layer (see DESIGN.md)."""
