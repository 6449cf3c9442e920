"""plots layer (see DESIGN.md)."""
