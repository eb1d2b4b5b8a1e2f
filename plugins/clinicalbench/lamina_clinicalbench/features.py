"""Feature vectors for the traditional models: count vectors of codes plus age and gender.

As in the paper, each code type (conditions, procedures, drugs) gets a vocabulary of at most 2,000 codes, the most
frequent in the training split; a visit becomes the counts of each vocabulary code, then age and gender. Age is
divided by 100 so distance- and margin-based models (KNN, SVM) are not dominated by it; gender is 1 for male.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from lamina_clinicalbench.cohort import Sample

CODE_TYPES = ("conditions", "procedures", "drugs")
MAX_CODES_PER_TYPE = 2000


@dataclass
class CountVectorizer:
    """Per-type vocabularies learnt on training samples; unseen codes are ignored."""

    max_codes: int = MAX_CODES_PER_TYPE
    vocabularies: dict[str, dict[str, int]] = field(default_factory=dict)

    def fit(self, samples: list[Sample]) -> CountVectorizer:
        offset = 0
        for code_type in CODE_TYPES:
            frequency = Counter(code for s in samples for code in set(getattr(s, code_type)))
            ranked = sorted(frequency, key=lambda code: (-frequency[code], code))[: self.max_codes]
            self.vocabularies[code_type] = {code: offset + i for i, code in enumerate(ranked)}
            offset += len(ranked)
        return self

    @property
    def n_code_columns(self) -> int:
        return sum(len(v) for v in self.vocabularies.values())

    @property
    def n_features(self) -> int:
        return self.n_code_columns + 2

    def transform(self, samples: list[Sample]) -> np.ndarray:
        if not self.vocabularies:
            raise RuntimeError("CountVectorizer.transform before fit: fit it on the training samples first.")
        matrix = np.zeros((len(samples), self.n_features), dtype=np.float32)
        for row, sample in enumerate(samples):
            for code_type in CODE_TYPES:
                vocabulary = self.vocabularies[code_type]
                for code in getattr(sample, code_type):
                    column = vocabulary.get(code)
                    if column is not None:
                        matrix[row, column] += 1.0
            matrix[row, -2] = sample.age / 100.0
            matrix[row, -1] = 1.0 if sample.gender.upper().startswith("M") else 0.0
        return matrix


def labels(samples: list[Sample], task: str) -> np.ndarray:
    return np.array([s.label(task) for s in samples], dtype=np.int64)
