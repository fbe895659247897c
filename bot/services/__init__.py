"""Every rule of the domain. Plain values in, plain results out; no ``discord``."""
