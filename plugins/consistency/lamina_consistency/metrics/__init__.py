"""Sample-quality metrics: exact ones for 2-D mixtures, classifier-feature ones for images."""
