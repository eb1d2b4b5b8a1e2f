"""Dialogues: Llama-3.1 template, 40/20/40 mix, mesh text inside turns, general tasks and their scoring."""

import json

import pytest

from lamina_llama_mesh.dialogues import (
    LLAMA31_CHAT_TEMPLATE,
    PAPER_MIX,
    build_dialogues,
    format_llama31,
    mix_counts,
)
from lamina_llama_mesh.general_text import answer_is_correct, generate_text_tasks, read_chat_file
from lamina_llama_mesh.obj_text import parse_mesh_text
from lamina_llama_mesh.procedural import generate_captioned_meshes


@pytest.fixture(scope="module")
def meshes():
    return generate_captioned_meshes(6, seed=0, categories=["cube", "pyramid", "cone"])


@pytest.fixture(scope="module")
def general():
    return [task.messages() for task in generate_text_tasks(20, seed=0)]


@pytest.mark.parametrize(("total", "expected"), [(10, [4, 2, 4]), (128, [51, 26, 51]), (7, [3, 1, 3])])
def test_mix_counts_paper_shares(total, expected):
    assert mix_counts(total, PAPER_MIX) == expected
    assert sum(mix_counts(total, PAPER_MIX)) == total


def test_mix_without_general_text():
    assert mix_counts(9, (0.4, 0.2, 0.0)) == [6, 3, 0]
    with pytest.raises(ValueError, match="three non-negative"):
        mix_counts(9, (1.0, -1.0, 0.0))


def test_build_dialogues_mix_and_content(meshes, general):
    dialogues = build_dialogues(meshes, general, 50, seed=1)
    kinds = [kind for kind, _ in dialogues]
    assert (kinds.count("text_to_mesh"), kinds.count("mesh_to_text"), kinds.count("general")) == (20, 10, 20)
    captions = {item.caption for item in meshes}
    for kind, messages in dialogues:
        assert [m["role"] for m in messages] == ["user", "assistant"]
        if kind == "text_to_mesh":
            assert any(caption in messages[0]["content"] for caption in captions)
            assert parse_mesh_text(messages[1]["content"]).is_valid
        if kind == "mesh_to_text":
            assert parse_mesh_text(messages[0]["content"]).mesh.num_faces > 0
            assert any(caption in messages[1]["content"] for caption in captions)


def test_build_dialogues_refuses_missing_sources(meshes):
    with pytest.raises(ValueError, match="general share to 0"):
        build_dialogues(meshes, [], 10)


def test_template_matches_formatter():
    from jinja2 import Template

    messages = [{"role": "user", "content": "What is 2 plus 2?"}, {"role": "assistant", "content": "4."}]
    rendered = Template(LLAMA31_CHAT_TEMPLATE).render(
        messages=messages, bos_token="<|begin_of_text|>", add_generation_prompt=False
    )
    assert rendered == format_llama31(messages)
    assert format_llama31(messages) == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2 plus 2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n4.<|eot_id|>"
    )
    prompt = format_llama31(messages[:1], add_generation_prompt=True)
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_text_tasks_are_checkable():
    tasks = generate_text_tasks(12, seed=5)
    assert len({task.kind for task in tasks}) == 6
    for task in tasks:
        assert answer_is_correct(task, task.reply)
    addition = next(task for task in tasks if task.kind == "addition")
    assert not answer_is_correct(addition, "I do not know.")
    assert not answer_is_correct(addition, f"{addition.answer}0 is the answer.")


def test_text_answers_are_scored_by_the_claim_not_by_echoed_numbers():
    """Replies that repeat the question's numbers or letters but claim a wrong answer are wrong. The first scorer
    only asked whether the answer occurred in the reply, so "37 is larger than 82." passed as the answer 82."""
    from lamina_llama_mesh.general_text import TextTask, claimed_answer

    compare = TextTask("compare", "Which number is larger, 37 or 82?", "82 is larger than 37.", "82")
    assert answer_is_correct(compare, "82 is larger than 37.") and answer_is_correct(compare, "82.")
    assert not answer_is_correct(compare, "37 is larger than 82.")
    minus = TextTask("subtraction", "What is 50 minus 25?", "50 minus 25 is 25.", "25")
    assert answer_is_correct(minus, "50 minus 25 is 25.")
    assert not answer_is_correct(minus, "50 minus 25 is 30.")
    letter = TextTask(
        "next_letter", "Which letter comes after 'c' in the alphabet?", "The letter after 'c' is 'd'.", "d"
    )
    assert answer_is_correct(letter, "The letter after 'c' is 'd'.")
    assert not answer_is_correct(letter, "The letter after 'd' is 'e'.")
    count = TextTask(
        "count", "How many letters are in the word 'river'?", "The word 'river' has 5 letters.", "5"
    )
    assert not answer_is_correct(count, "The word 'river' has 6 letters.")
    plus = TextTask("addition", "What is 47 plus 54?", "47 plus 54 is 101.", "101")
    assert claimed_answer(plus, "49 plus 27 is 102.") == "102"  # a miscopied question, then its own sum
    assert claimed_answer(plus, "101 is 47 plus 54.") == "101" and answer_is_correct(plus, "101")
    backwards = TextTask(
        "reverse", "Spell the word 'river' backwards.", "'river' backwards is 'revir'.", "revir"
    )
    assert not answer_is_correct(backwards, "'revir' backwards is 'river'.")
    # every generated task's own reply is still scored correct, for all kinds
    for task in generate_text_tasks(120, seed=3):
        assert answer_is_correct(task, task.reply), task


def test_chat_file(tmp_path):
    good = tmp_path / "chat.jsonl"
    good.write_text(
        json.dumps(
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
        )
        + "\n"
    )
    assert read_chat_file(good)[0][1]["content"] == "hello"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no messages"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        read_chat_file(bad)
