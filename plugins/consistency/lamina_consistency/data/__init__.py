"""Data for the teachers and students: 2-D Gaussian mixtures (exact densities), scikit-learn's digits, shapes."""
