"""Networks: StarGAN and AttGAN generators/critics, the BiSeNet face parser, the evaluation classifier."""
