"""Loading the union's monthly exports into the warehouse: read, map, validate, load."""
