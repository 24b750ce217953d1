"""Virtual IPP printers for tests and the demo."""
