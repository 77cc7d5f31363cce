"""schemathesis against the real API and the shipped OpenAPI document:
bad input, fuzzed (fuzzer.py has the machinery)."""
