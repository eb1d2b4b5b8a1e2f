"""The README's table scripts run on evaluation JSON files and print the expected rows."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[3] / "plugins" / "llama_mesh" / "scripts"


def run(script, *args):
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *map(str, args)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_chamfer_by_category(tmp_path):
    rows = [{"valid": True, "chamfer": 0.05}, {"valid": False, "chamfer": None}]
    path = tmp_path / "eval.json"
    path.write_text(json.dumps({"samples": rows}))
    out = run("chamfer_by_category.py", path, "--categories", "cube", "--shapes-per-category", 2)
    cube = next(line for line in out.splitlines() if line.startswith("| cube"))
    assert "| 1/2 | 0.050 |" in cube
    # a cube has one shape: the same-caption reference equals the noise floor
    floor, same = (float(x) for x in cube.strip("|").split("|")[3:5])
    assert abs(floor - same) < 0.01


def test_text_retention_table_splits_trained_questions(tmp_path):
    from lamina_llama_mesh.general_text import generate_text_tasks

    trained = generate_text_tasks(1, seed=42)[0]
    rows = [
        {"kind": trained.kind, "question": trained.question, "correct": True},
        {"kind": "compare", "question": "Which number is larger, 1000 or 2000?", "correct": False},
    ]
    path = tmp_path / "eval.json"
    path.write_text(json.dumps({"text_samples": rows}))
    out = run("text_retention_table.py", f"m={path}", "--seed", 42, "--num-general", 1)
    line = next(line for line in out.splitlines() if line.startswith("| m |"))
    assert "| 0.500 (2) | 1.000 (1) | 0.000 (1) |" in line
