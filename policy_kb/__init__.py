"""The policy knowledge base: sources, regions, dated parameters and measures, loaded from YAML."""
