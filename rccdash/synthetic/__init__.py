"""A synthetic county whose exports look like a real union's, with a story worth seeing."""
