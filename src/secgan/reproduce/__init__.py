"""The end-to-end reproduction pipeline (`secgan reproduce`): data -> parser -> classifier -> the three
methods -> evaluation -> report -> edited samples, each stage skipped when its output is already valid."""
