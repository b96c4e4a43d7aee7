"""The face parser P: the frozen wrapper used in training and editing, its training and evaluation, the
parser mask cache and the import of the public face-parsing checkpoint."""

from secgan.auxiliary.parser.frozen import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PARSER_NAME,
    FrozenParser,
    parser_hash,
    parser_meta,
)
from secgan.auxiliary.parser.protocol import ParserLike

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "PARSER_NAME",
    "FrozenParser",
    "ParserLike",
    "parser_hash",
    "parser_meta",
]
