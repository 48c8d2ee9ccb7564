"""LLM providers behind one narrow interface, chosen by `provider/model`."""
