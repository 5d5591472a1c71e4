"""MiniVess data: layouts, the synthetic generator, validation, the manifest and splits."""
