"""Operation handlers, one module per family; each exports ``OPERATIONS``."""
