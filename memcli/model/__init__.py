"""Chat models: the protocol, the llama.cpp backend, recorded calls."""
