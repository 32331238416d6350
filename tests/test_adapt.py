"""Test-time adaptation (#37): each method's update equals a transcription of its anchor's on the same model
and batch; the protocols' resets; the refusal of what cannot be adapted; the recorded protocol; the same
bytes for any worker count."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from fixtures import cli, make_mnist
from standin_models import tiny_bn_cnn
from torch import nn

from corruptgen.adapt import Adaptation, AdaptationError, Settings

BATCH = torch.rand(8, 3, 28, 28, generator=torch.Generator().manual_seed(1))


@pytest.fixture(autouse=True)
def here(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.chdir(tmp_path)


def reference_tent(model, x, loss_fn, lr=1e-3):
    """DequanWang/tent tent.py: configure_model, collect_params, Adam, forward_and_adapt (one step)."""
    model.train()
    model.requires_grad_(False)
    params = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.requires_grad_(True)
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
            params += [m.weight, m.bias]
    optimizer = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), weight_decay=0.0)
    outputs = model(x)
    loss = loss_fn(outputs)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return outputs


def softmax_entropy(x):  # tent.py:42-45
    return -(x.softmax(1) * x.log_softmax(1)).sum(1)


def gce(logits, q=0.8):  # robusta/selflearning/functional.py:24-32, the target the argmax
    target = logits.argmax(1)
    probs = F.softmax(logits, dim=1)
    p_y = probs.index_select(-1, target).diag()
    return ((1 - p_y**q) / q).mean()


@pytest.mark.parametrize("method,loss", [("tent", lambda o: softmax_entropy(o).mean(0)), ("rpl", gce)])
def test_one_step_equals_the_reference_update(method, loss):
    ours, theirs = tiny_bn_cnn(), tiny_bn_cnn()
    adapted = Adaptation(ours, Settings(method=method))
    out = adapted(BATCH)
    expected = reference_tent(theirs, BATCH, loss)
    assert torch.allclose(out, expected.detach(), atol=1e-6)  # the prediction from before the step
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(a, b, atol=1e-7)
    assert not torch.allclose(ours[1].weight, tiny_bn_cnn()[1].weight)  # the step moved the BN affine weights...
    assert torch.equal(ours[0].weight, tiny_bn_cnn()[0].weight)  # ...and nothing else


def test_bn_adaptation_with_a_prior_is_schneiders_mixture():
    model = tiny_bn_cnn()
    layer = copy.deepcopy(model[1])
    x = model[0](BATCH)
    # robusta/batchnorm/bn.py BayesianBatchNorm: a momentum-1 layer's running stats mixed with the source's
    norm = nn.BatchNorm2d(6, affine=False, momentum=1.0)
    norm(x)
    prior = 16 / (16 + len(BATCH))
    mean = prior * layer.running_mean + (1 - prior) * norm.running_mean
    var = prior * layer.running_var + (1 - prior) * norm.running_var
    expected = F.batch_norm(x, mean, var, layer.weight, layer.bias, False, 0, layer.eps)
    Adaptation(model, Settings(method="bn", bn_prior=16))
    with torch.no_grad():
        assert torch.allclose(model[1](x), expected, atol=1e-6)
    plain = tiny_bn_cnn()
    Adaptation(plain, Settings(method="bn"))
    with torch.no_grad():  # N = 0: the batch's statistics (tent's norm.py: the layers in train mode)
        assert torch.allclose(plain[1](x), F.batch_norm(x, None, None, layer.weight, layer.bias, True, 0.1, layer.eps), atol=1e-6)


def test_reset_brings_back_the_source_model():
    model = tiny_bn_cnn()
    adapted = Adaptation(model, Settings(method="tent", lr=0.1))
    before = copy.deepcopy(model.state_dict())
    adapted(BATCH)
    assert not torch.equal(model[1].weight, before["1.weight"])
    adapted.reset()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_a_model_without_batchnorm_is_refused():
    from standin_models import tiny_mlp

    with pytest.raises(AdaptationError, match="has no BatchNorm layer to adapt"):
        Adaptation(tiny_mlp(), Settings(method="tent"))


def tree(tmp_path) -> Path:
    src = make_mnist(Path("mnist"), n_train=2, n_test=12)
    cli("build", "mnist", "--src", src, "--split", "test", "--out", "mc", "--corruptions", "contrast,fog", "--severities",
        "5", "--quiet")  # fmt: skip
    return Path("mc")


def classify(target, results, *extra):
    cli("classify", target, "--model", "standin_models:tiny_bn_cnn", "--results", results, "--batch-size", 4, "--quiet", *extra)
    return {p.relative_to(results).as_posix(): p.read_bytes() for p in Path(results).rglob("*.json") if p.name != "run.json"}


def test_protocols_are_recorded_and_reset_means_each_cell_alone(tmp_path):
    mc = tree(tmp_path)
    both = classify(mc, "tent", "--adapt", "tent", "--lr", "0.05")
    alone = classify(mc, "fog-alone", "--adapt", "tent", "--lr", "0.05", "--corruptions", "fog")
    assert both["fog/5.json"] == alone["fog/5.json"]  # reset: fog is scored by a fresh model, whatever came before
    continual = classify(mc, "continual", "--adapt", "tent", "--lr", "0.05", "--protocol", "continual")
    assert continual["fog/5.json"] != both["fog/5.json"] and continual["clean.json"] == both["clean.json"]
    source = classify(mc, "source")
    assert source["fog/5.json"] != both["fog/5.json"]
    run = json.loads(Path("continual/run.json").read_text())
    assert run["adaptation"] == {"method": "tent", "protocol": "continual", "optimizer": "adam", "lr": 0.05, "steps": 1,
                                 "batch_size": 4, "stream": "shuffled, seed 0", "passes": 1,
                                 "order": ["clean", "fog severity 5", "contrast severity 5"]}  # fmt: skip
    refused = cli("classify", mc, "--model", "standin_models:tiny_bn_cnn", "--results", "tent", "--batch-size", 4,
                  "--adapt", "rpl", expect=1)  # fmt: skip
    assert "holds results of another adaptation" in refused.output


def test_adapted_results_are_the_same_bytes_for_any_worker_count(tmp_path):
    mc = tree(tmp_path)
    one = classify(mc, "w1", "--adapt", "rpl", "--workers", 1)
    two = classify(mc, "w2", "--adapt", "rpl", "--workers", 2)
    assert one == two
    fly = classify("mnist", "fly", "--on-the-fly", "--src", "mnist", "--split", "test", "--corruptions", "contrast,fog",
                   "--severities", "5", "--adapt", "rpl", "--workers", 2)  # fmt: skip
    assert {k: v for k, v in fly.items() if k != "corruptgen.json"} == one  # on the fly: the same batches, so the same adapted results as from the built tree


def test_adaptation_options_say_what_is_wrong(tmp_path):
    mc = tree(tmp_path)
    for args, message in ((("--lr", "0.1"), "--lr belongs to test-time adaptation; add --adapt"),
                          (("--adapt", "bn", "--lr", "0.1"), "--adapt bn trains nothing"),
                          (("--adapt", "tent", "--bn-prior", "4"), "--bn-prior is --adapt bn's")):  # fmt: skip
        result = cli("classify", mc, "--model", "standin_models:tiny_bn_cnn", "--results", "x", *args, expect=2)
        assert message in result.output
    result = cli("classify", mc, "--model", "standin_models:mean_classifier", "--results", "y", "--adapt", "tent", expect=1)
    assert "needs a PyTorch model" in result.output
    result = cli("classify", mc, "--model", "standin_models:tiny_mlp", "--results", "z", "--adapt", "bn", expect=1)
    assert "has no BatchNorm layer to adapt" in result.output


def test_evaluate_sets_source_and_adapted_runs_side_by_side(tmp_path):
    mc = tree(tmp_path)
    for name, extra in (("source", ()), ("bn", ("--adapt", "bn")), ("tent", ("--adapt", "tent", "--lr", "0.05"))):
        classify(mc, name, *extra)
    result = cli("evaluate", mc, "--results", "source", "--results", "bn", "--results", "tent", "--out", "table")
    table = json.loads(Path("table/comparison.json").read_text())
    assert [r["label"] for r in table["rows"]] == ["source", "bn (reset, batch 4)", "tent (reset, batch 4)"]
    for row, name in zip(table["rows"], ("source", "bn", "tent")):
        doc = json.loads(Path(name, "results.json").read_text())
        assert row["errors"]["fog"] == doc["cells"]["fog"]["5"] and row["mCE"] == doc["mCE"]
    assert "| tent (reset, batch 4) |" in result.output and table["severity"] == 5
