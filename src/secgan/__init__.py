"""secgan: label-guided face editing with semantic consistency (SeCGAN)."""

__version__ = "0.1.0"
