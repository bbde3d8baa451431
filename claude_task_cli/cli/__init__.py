"""The command-line door onto the core: parse options, call one core function, render, exit."""
