"""End-to-end runs of ``lamina train``/``lamina eval`` on the digits task: the paths a user depends on."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lamina.tasks import run_eval, run_train
from lamina.testing import compose_config, compose_train_config

FIXTURES = Path(__file__).parent / "fixtures"


def lamina_train(*overrides: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python -m lamina.train`` as a user would (a fresh process)."""
    environment = {**os.environ, "PYTHONPATH": str(FIXTURES), **(env or {})}
    return subprocess.run([sys.executable, "-m", "lamina.train", *overrides, "extras.print_config=false"],
                          capture_output=True, text=True, timeout=timeout, env=environment)


def test_fast_dev_run(tmp_path):
    metrics = run_train(compose_train_config(["debug=fast_dev_run"], tmp_path))
    assert "train/loss" in metrics and "test/acc" in metrics


def test_progress_lines_are_logged_when_the_console_is_not_a_terminal(tmp_path, caplog):
    # pytest captures stdout, so it is not a terminal here: exactly the nohup/SLURM case
    caplog.set_level("INFO", logger="lamina")
    overrides = ["trainer.max_steps=6", "trainer.max_epochs=1", "callbacks.progress_log.every_n_steps=2", "test=false"]
    run_train(compose_train_config(overrides, tmp_path))
    lines = [r.getMessage() for r in caplog.records if r.name == "lamina" and r.getMessage().startswith("step ")]
    assert [line.split(",")[0] for line in lines] == ["step 2/6", "step 4/6", "step 6/6"], lines
    assert "steps/s" in lines[0]


def test_train_learns_then_eval_reloads_checkpoint(tmp_path):
    metrics = run_train(compose_train_config(["trainer.max_epochs=3", "callbacks.model_checkpoint.monitor=val/acc",
                                              "callbacks.model_checkpoint.mode=max"], tmp_path / "train"))
    assert metrics["val/acc"] > 0.8, metrics  # 10-class digits: chance is 0.1
    last = tmp_path / "train" / "checkpoints" / "last.ckpt"
    assert last.exists()
    torch.load(last, weights_only=True)  # the checkpoint holds no pickled objects
    evaluated = run_eval(compose_config("eval", [f"ckpt_path={last}", "extras.print_config=false"], tmp_path / "e"))
    assert evaluated["test/acc"] > 0.8


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["state_dict"]


def _last_metrics(run_dir: Path) -> dict[str, str]:
    with open(run_dir / "csv" / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if row.get("val/loss")][-1]


@pytest.mark.slow
def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    common = ["logger=csv", "trainer.max_epochs=2", "test=false", "callbacks.model_checkpoint.every_n_train_steps=5",
              "callbacks.model_checkpoint.save_top_k=-1", "model.dropout=0.2", "trainer.num_sanity_val_steps=0"]
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    assert lamina_train(*common, f"hydra.run.dir={reference}").returncode == 0
    # Killed mid-epoch 2 (step 27 of 40), 2 steps after its last checkpoint: that work is lost and redone.
    killed = lamina_train(*common, f"hydra.run.dir={interrupted}", "+callbacks.kill._target_=killer.KillAtStep",
                          "+callbacks.kill.step=27")
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert torch.load(interrupted / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 25
    resumed = lamina_train(*common, f"hydra.run.dir={interrupted}", "ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    expected, actual = _weights(reference / "checkpoints" / "last.ckpt"), _weights(interrupted / "checkpoints" / "last.ckpt")
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=0, atol=0, msg=name)
    assert _last_metrics(interrupted)["val/loss"] == _last_metrics(reference)["val/loss"]


@pytest.mark.slow
def test_two_process_ddp_on_cpu_through_the_lamina_command(tmp_path):
    # Through the console script: Lightning re-launches rank 1 from the command line it finds.
    lamina = str(Path(sys.executable).parent / "lamina")
    out = subprocess.run([lamina, "train", "trainer=ddp_cpu", "trainer.max_epochs=1", "logger=csv",
                          "extras.print_config=false", f"hydra.run.dir={tmp_path}",
                          "callbacks.model_checkpoint.dirpath=" + str(tmp_path / "ckpt")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert "Starting with 2 processes" in log
    assert (tmp_path / "ckpt" / "last.ckpt").exists()


@pytest.mark.slow
def test_wandb_offline_run_without_credentials_or_network(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("WANDB_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(FIXTURES))  # no ~/.netrc, no API key
    out = subprocess.run([sys.executable, "-m", "lamina.train", "logger=wandb", "trainer.max_epochs=1",
                          "extras.print_config=false", f"hydra.run.dir={tmp_path / 'run'}"],
                         capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and any(runs[0].glob("*.wandb"))
    assert "wandb sync" in out.stdout


@pytest.mark.slow
def test_submitit_local_multirun_runs_two_jobs(tmp_path):
    out = lamina_train("-m", "hydra/launcher=local", "seed=1,2", "trainer.max_epochs=1", "logger=csv", "test=false",
                       f"hydra.sweep.dir={tmp_path}", "hydra.launcher.timeout_min=5")
    assert out.returncode == 0, out.stderr[-3000:]
    for job in ("0", "1"):
        assert (tmp_path / job / "checkpoints" / "last.ckpt").exists(), f"job {job} did not train"
    assert list((tmp_path / ".submitit").glob("*/*_result.pkl")), "jobs did not run through submitit"
