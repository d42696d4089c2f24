"""One module (or package) per contender; each serves bench.common's endpoints."""
