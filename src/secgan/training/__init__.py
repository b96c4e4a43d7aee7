"""SeCGAN training (paper Algorithm 1): the trainer, its schedules, data order, checkpoints and run folder."""
