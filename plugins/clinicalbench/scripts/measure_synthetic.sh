#!/usr/bin/env bash
# The README's measured table on synthetic MIMIC-III-like data (3,000 generated patients), in three stages:
#   1. the 11 traditional models x 3 tasks x seeds 3, 5, 7, 11, 13 (one Hydra multirun);
#   2. the language models trained here (base model with 4 prompting strategies + fine-tuned), one multirun per
#      seed in the paper's order, so a run cut short still leaves whole seeds;
#   3. the table over everything that finished (results.md / .csv / .png in OUT).
# usage: measure_synthetic.sh OUT [LM seeds...]      (default LM seeds: 3 5 7 11 13)
# Run it from a folder outside the repository (the synthetic data and models are cached under ./.cache).
set -euo pipefail
out=${1:?usage: measure_synthetic.sh OUT [LM seeds...]}
shift
lm_seeds=${*:-3 5 7 11 13}
bench=(python -m lamina_clinicalbench.benchmark --multirun)
start=$(date +%s)
stamp() { echo "[measure] $1 after $(( $(date +%s) - start )) s" >&2; }

"${bench[@]}" \
    model=xgboost,logistic_regression,decision_tree,random_forest,adaboost,svm,naive_bayes,knn,mlp,transformer,lstm \
    task=los,mortality,readmission seed=3,5,7,11,13 hydra.sweep.dir="$out/traditional"
stamp "traditional models done"
for seed in $lm_seeds; do
    "${bench[@]}" model=lm_zero_shot,lm_in_context,lm_chain_of_thought,lm_self_reflection,lm_finetuned \
        task=los,mortality,readmission seed="$seed" hydra.sweep.dir="$out/lm_seed$seed"
    stamp "language models, seed $seed done"
done
lamina clinicalbench table "$out"
stamp "table written"
