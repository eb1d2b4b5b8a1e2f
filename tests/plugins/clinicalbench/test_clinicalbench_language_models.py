"""Prompts, next-token option scoring (with unparseable answers counted wrong) and the Hugging Face backend."""

from __future__ import annotations

import numpy as np
import pytest

from lamina_clinicalbench.cohort import Sample
from lamina_clinicalbench.lm_backends import HuggingFaceBackend, OptionScores
from lamina_clinicalbench.lm_eval import evaluate_language_model, predict_with_language_model, wrong_label
from lamina_clinicalbench.prompts import ANSWER_CUE, build_prompt, describe_visit, training_text

TITLES = {
    "ICD9:0389": "Unspecified septicemia",
    "ICD9:3893": "Venous catheterization",
    "ATC3:B01A": "ANTITHROMBOTIC AGENTS",
}


def sample(subject: int, mortality: int = 0, los: int = 1, age: int = 70, gender: str = "F") -> Sample:
    return Sample(
        subject,
        100 + subject,
        age,
        gender,
        ["ICD9:0389"],
        ["ICD9:3893"],
        ["ATC3:B01A"],
        3,
        los,
        mortality,
        -1,
    )


def test_prompt_uses_titles_age_gender_and_ends_at_the_answer_cue():
    prompt = build_prompt(sample(1, age=81, gender="M"), "mortality", TITLES)
    assert "81-year-old male" in prompt
    assert "Unspecified septicemia" in prompt and "ANTITHROMBOTIC AGENTS" in prompt and "0389" not in prompt
    assert prompt.endswith(ANSWER_CUE)


def test_in_context_prompt_shows_examples_with_their_answers_and_cot_asks_for_reasoning():
    examples = [sample(2, mortality=1, age=55), sample(3, mortality=0, age=44)]
    prompt = build_prompt(sample(1), "mortality", TITLES, "in_context", examples)
    assert "55-year-old" in prompt and f"{ANSWER_CUE} 1" in prompt and f"{ANSWER_CUE} 0" in prompt
    assert "step by step" in build_prompt(sample(1), "los", TITLES, "chain_of_thought")
    chat = training_text(sample(4, los=3), "los", TITLES)
    assert chat[1] == {"role": "assistant", "content": "3"}
    with pytest.raises(ValueError, match="unknown prompting strategy"):
        build_prompt(sample(1), "los", TITLES, "tree_of_thought")


class ScriptedBackend:
    """Returns fixed option log-probabilities; row i is unparseable when parseable[i] is False."""

    def __init__(self, log_probs: list[list[float]], parseable: list[bool]) -> None:
        self.scores = OptionScores(np.log(np.array(log_probs)), np.array(parseable))

    def option_scores(self, prompts, options):
        assert len(prompts) == len(self.scores.parseable)
        return self.scores

    def generate(self, prompt, max_new_tokens):
        return " the patient is stable."  # never reaches "Answer:" -> unparseable


def test_unparseable_answers_count_as_wrong():
    test = [sample(1, mortality=1), sample(2, mortality=0), sample(3, mortality=1)]
    backend = ScriptedBackend([[0.2, 0.8], [0.9, 0.1], [0.3, 0.7]], [True, True, False])
    predictions, probabilities, parseable = predict_with_language_model(
        backend, test, "mortality", TITLES, "zero_shot"
    )
    assert predictions.tolist() == [1, 0, 0]  # the third would be right, but it was unparseable
    assert probabilities[:, 1] == pytest.approx([0.8, 0.1, 0.7])
    assert parseable.tolist() == [True, True, False]
    assert wrong_label(3, "los") != 3 and wrong_label(0, "mortality") == 1
    result = evaluate_language_model(backend, test, "mortality", TITLES, "zero_shot")
    assert result["f1"] == pytest.approx(100 * 2 / 3) and result["parseable"] == pytest.approx(200 / 3)


def test_chain_of_thought_without_an_answer_cue_is_unparseable():
    test = [sample(1, mortality=1)]
    predictions, _, parseable = predict_with_language_model(
        ScriptedBackend([[0.1, 0.9]], [True]), test, "mortality", TITLES, "chain_of_thought"
    )
    assert not parseable[0] and predictions[0] == 0


def tiny_llama(tokenizer, *, layers: int, positions: int):
    """A freshly initialised (seed 0) width-32 Llama sized to ``tokenizer``."""
    import torch

    from lamina.lm.build import build_from_config

    torch.manual_seed(0)
    return build_from_config(
        "llama",
        dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=positions,
            pad_token_id=tokenizer.pad_token_id,
        ),
    )


@pytest.fixture(scope="module")
def tiny_backend():
    from lamina.lm import train_bpe_tokenizer

    texts = [describe_visit(sample(i, age=20 + i), TITLES) + " Answer: 0 1 2 3" for i in range(40)]
    tokenizer = train_bpe_tokenizer(texts, vocab_size=300)
    return HuggingFaceBackend(tiny_llama(tokenizer, layers=2, positions=512), tokenizer, batch_size=3)


def test_left_padded_batches_score_like_single_prompts(tiny_backend):
    prompts = [
        build_prompt(sample(i, age=30 + 7 * i), "los", TITLES, strategy)
        for i, strategy in enumerate(["zero_shot", "in_context", "zero_shot", "self_reflection"])
    ]
    prompts[1] = build_prompt(sample(1), "los", TITLES, "in_context", [sample(5), sample(6)])  # longer prompt
    batched = tiny_backend.option_scores(prompts, ("1", "2", "3"))
    assert batched.log_probs.shape == (4, 3) and np.all(batched.log_probs <= 0)
    for i, prompt in enumerate(prompts):
        single = tiny_backend.option_scores([prompt], ("1", "2", "3"))
        np.testing.assert_allclose(single.log_probs[0], batched.log_probs[i], atol=1e-4)
        assert single.parseable[0] == batched.parseable[i]


def test_backend_round_trips_through_a_local_directory(tiny_backend, tmp_path):
    tiny_backend.model.save_pretrained(tmp_path / "model")
    tiny_backend.tokenizer.save_pretrained(tmp_path / "model")
    loaded = HuggingFaceBackend.from_directory(tmp_path / "model")
    prompt = [build_prompt(sample(1), "mortality", TITLES)]
    np.testing.assert_allclose(
        loaded.option_scores(prompt, ("0", "1")).log_probs,
        tiny_backend.option_scores(prompt, ("0", "1")).log_probs,
        atol=1e-5,
    )
    assert isinstance(loaded.generate(prompt[0], 3), str)
    with pytest.raises(FileNotFoundError, match="config.json"):
        HuggingFaceBackend.from_directory(tmp_path / "missing")


def test_options_tokenized_unevenly_are_each_scored_by_their_own_digit():
    # A tokenizer that merged " 1" into one token but splits " 0" into " " + "0" (its corpus never had " 0").
    # Scoring "0" by the bare space token would be wrong; the space must join the context instead.
    import torch

    from lamina.lm import train_bpe_tokenizer

    tokenizer = train_bpe_tokenizer(["a 1 b 1 c 1 d 1 e 1 x0 y0"] * 50, vocab_size=300)
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    assert len(encode(" 1")) == 1 and len(encode(" 0")) == 2  # the uneven case this test is about
    backend = HuggingFaceBackend(tiny_llama(tokenizer, layers=1, positions=128), tokenizer)
    context, ids = backend.option_tokens(("0", "1"))
    assert context == encode(" ") and ids == [encode("0")[0], encode("1")[0]]
    prompt = "a 1 b Answer:"
    scores = backend.option_scores([prompt], ("0", "1"))
    with torch.no_grad():
        logits = backend.model(torch.tensor([tokenizer.encode(prompt) + context])).logits[0, -1]
    np.testing.assert_allclose(scores.log_probs[0], torch.log_softmax(logits, -1)[ids].numpy(), atol=1e-5)
