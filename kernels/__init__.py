"""Pure array kernels behind the corruptions (installed as ``corruptgen.kernels``).

A kernel takes arrays and explicit parameters and returns an array. It knows nothing
about severities, profiles, files or random generators: every random draw arrives as an
argument, as an array or, where a kernel needs one draw per pixel, as a 64-bit key that it
expands with the counter-based stream of :mod:`.counter`. Images are float32 ``H x W x C`` arrays scaled to [0, 1] unless a docstring
says otherwise.
"""
