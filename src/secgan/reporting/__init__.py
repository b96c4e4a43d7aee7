"""The paper's Table 1 and Figures 3-5 from evaluation folders (``secgan report``)."""
