"""The host directory: hosts, their search index, imports and exports."""
