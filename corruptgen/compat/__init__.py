"""Drop-in replacements for other libraries' APIs, backed by corruptgen's kernels."""
