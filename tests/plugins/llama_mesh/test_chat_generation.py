"""Chat generation stops at end-of-turn, reports whether it finished, and pads batches on the left."""

import pytest
import torch

from lamina_llama_mesh.chat_generation import chat_replies, stop_token_ids


@pytest.fixture(scope="module")
def tokenizer():
    from lamina.lm.tokenizer import train_bpe_tokenizer

    return train_bpe_tokenizer(["v 1 2 3\nf 1 2 3\n", "What is 2 plus 2?", "This is a cube."] * 20, 300)


def test_stop_ids_include_end_of_turn_and_end_of_text(tokenizer):
    vocabulary = tokenizer.get_vocab()
    assert set(stop_token_ids(tokenizer)) >= {vocabulary["<|eot_id|>"], tokenizer.eos_token_id}


class ScriptedModel(torch.nn.Module):
    """Emits a fixed token sequence whatever the prompt, to pin down how replies are cut."""

    def __init__(self, script):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.script = script
        self.prompts = None

    def generate(self, input_ids, attention_mask, max_new_tokens, eos_token_id, pad_token_id, **kwargs):
        self.prompts = (input_ids, attention_mask)
        new = torch.tensor(self.script[:max_new_tokens]).repeat(len(input_ids), 1)
        return torch.cat([input_ids, new], dim=1)


def test_reply_cut_at_end_of_turn_and_truncation_flag(tokenizer):
    eot = tokenizer.get_vocab()["<|eot_id|>"]
    body = tokenizer("v 1 2 3", add_special_tokens=False)["input_ids"]
    model = ScriptedModel(body + [eot] + body)
    conversations = [
        [{"role": "user", "content": "a cube"}],
        [{"role": "user", "content": "a much longer prompt"}],
    ]
    replies = chat_replies(model, tokenizer, conversations, max_new_tokens=50)
    assert [r.text for r in replies] == ["v 1 2 3", "v 1 2 3"] and all(r.finished for r in replies)
    ids, mask = model.prompts
    assert mask[0, 0] == 0 and mask[1, 0] == 1 and mask[:, -1].all()  # left padding
    cut = chat_replies(model, tokenizer, conversations[:1], max_new_tokens=len(body))[0]
    assert not cut.finished and cut.new_tokens == len(body)
