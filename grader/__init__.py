"""convkata's autograder: grades convolution interview problems in isolated workers."""

__version__ = "0.1.0"
SCHEMA_VERSION = 1
