"""Photos bundled with matrix.models (licences in SOURCES.md)."""
