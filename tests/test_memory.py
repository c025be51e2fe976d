"""The training-memory ledger (analysis/memory.py): its arithmetic per optimizer and dtype,
what each kind's gradient keeps, shared tensors counted once, and the largest batch."""

from __future__ import annotations

import json

import pytest

import archspec
from archspec.analysis.memory import OPTIMIZER_SCALARS, TrainingSetup, parse_size

CHAIN = "network Chain\ninput 8x8x3\nconv(4, 3, padding=same) bn relu maxpool(2) dropout(0.5) flatten dense(2, softmax)\n"


def chain(**setup):
    return archspec.parse(CHAIN, "chain.arch").analyze(training=TrainingSetup(**setup))


@pytest.mark.parametrize(("optimizer", "slots"), [("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2), ("nadam", 2), ("rmsprop", 1), ("adagrad", 1)])
@pytest.mark.parametrize(("dtype", "compute"), [("float32", 4), ("mixed_float16", 2), ("mixed_bfloat16", 2)])
def test_the_static_part_per_optimizer_and_the_batch_part_per_dtype(optimizer, slots, dtype, compute):
    report = chain(batch=10, optimizer=optimizer, dtype=dtype)
    ledger, totals = report.memory, report.totals
    # conv 3*3*3*4 + 4 = 112; bn 4 * 4 = 16 (8 trainable); dense 64 * 2 + 2 = 130
    assert (totals.params, totals.trainable_params) == (258, 250)
    assert ledger.parameters == 258 * 4  # variables stay float32 under a mixed policy
    assert ledger.gradients == 250 * 4
    assert ledger.optimizer_slots == slots * 250 * 4 + OPTIMIZER_SCALARS
    # Held for the backward pass, per sample, each tensor once: the input (conv's kernel gradient)
    # 192; conv's output (bn's input) 256; relu's output, which is also maxpool's input, 256;
    # maxpool's output 64; dropout's mask 64; flatten's output (dense's input) 64; softmax's output 2.
    kept = 192 + 256 + 256 + 64 + 64 + 64 + 2
    assert ledger.activations == kept * compute * 10
    # The widest layer's gradients in and out at once: bn, relu (256 + 256).
    assert ledger.workspace == 512 * compute * 10
    assert ledger.per_sample == (kept + 512) * compute
    assert ledger.peak == ledger.parameters + ledger.gradients + ledger.optimizer_slots + ledger.activations + ledger.workspace
    assert sum(ledger.layer_bytes) == ledger.activations


def test_each_layer_accounts_for_the_tensors_it_made():
    report = chain(batch=1)
    by_layer = dict(zip((layer.name for layer in report.layers), report.memory.layer_bytes))
    assert by_layer == {"conv_1": (192 + 256) * 4, "bn_1": 0, "relu_1": 256 * 4, "maxpool_1": 64 * 4, "dropout_1": 64 * 4,
                        "flatten_1": 64 * 4, "dense_1": 2 * 4}


@pytest.mark.parametrize(("function", "held"), [("relu", "output"), ("sigmoid", "output"), ("gelu", "input and erf"),
                                                ("swish", "input"), ("linear", "nothing")])
def test_fused_and_separate_activations_hold_what_their_gradients_read(function, held):
    fused = archspec.parse(f"network F\ninput 8\ndense(4, {function})\n", "f.arch").analyze(batch=1).memory
    separate = archspec.parse(f"network S\ninput 8\ndense(4) act({function})\n", "s.arch").analyze(batch=1).memory
    extra = {"output": 4, "input": 4, "input and erf": 8, "nothing": 0}[held]
    assert fused.activations == (8 + extra) * 4  # the dense's input, and what the activation reads
    # apart, an activation that reads its input reads the dense's output, a tensor of the network: the same bytes
    assert separate.activations == fused.activations


def test_the_largest_batch_fits_and_one_more_does_not():
    report = chain(batch=1, memory=1 << 20)
    ledger = report.memory
    fits = ledger.largest_batch
    assert ledger.static + fits * ledger.per_sample <= 1 << 20 < ledger.static + (fits + 1) * ledger.per_sample
    assert chain(batch=1, memory=100).memory.largest_batch == 0


@pytest.mark.parametrize(("text", "size"), [("8GiB", 8 << 30), ("512 MiB", 512 << 20), ("16GB", 16 * 10**9), ("1.5GiB", 3 << 29),
                                            ("1000", 1000)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["8XB", "", "-1GiB", "0"])
def test_bad_sizes(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_the_command_line_and_the_json_keys(cli):
    result = cli("analyze", "baseline", "--batch", "256", "--optimizer", "sgd", "--memory", "2GiB")
    assert result.code == 0
    assert "training memory     peak" in result.out and "  largest batch" in result.out
    report = json.loads(cli("analyze", "baseline", "--batch", "64", "--format", "json").out)
    assert set(report["memory"]) == {"batch", "optimizer", "dtype", "parameters", "gradients", "optimizer_slots", "activations",
                                     "workspace", "peak", "per_sample", "memory", "largest_batch"}
    assert report["memory"]["optimizer"] == "adam" and report["memory"]["dtype"] == "float32"
    assert sum(layer["activation_bytes"] for layer in report["layers"]) == report["memory"]["activations"]
    csv = cli("analyze", "baseline", "--batch", "2", "--format", "csv").out.splitlines()
    assert csv[0].endswith(",activation_bytes") and csv[1].endswith(f",{(32 * 32 * 3 + 32 * 32 * 6) * 4 * 2}")  # input and output
    assert "memory" not in json.loads(cli("analyze", "baseline", "--format", "json").out)
    assert cli("analyze", "baseline", "--memory", "lots").code == 2


@pytest.mark.keras
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "nadam", "rmsprop", "adagrad"])
def test_the_slot_counts_are_those_keras_builds(optimizer):
    """The oracle: the variables a Keras 3 optimizer builds for one weight, per element."""
    from archspec.analysis.memory import OPTIMIZER_SLOTS
    from archspec.backend import load_keras

    keras = load_keras()
    built = keras.optimizers.SGD(momentum=0.9) if optimizer == "momentum" else keras.optimizers.get(optimizer)
    weight = keras.Variable(keras.ops.zeros((3, 4)))
    built.build([weight])
    assert sum(1 for variable in built.variables if tuple(variable.shape) == (3, 4)) == OPTIMIZER_SLOTS[optimizer]


def test_the_ledger_counts_what_keras_holds_whatever_the_table_convention():
    spec = archspec.load("resnet18")
    keras_counted = spec.analyze(batch=8).memory
    torch_counted = spec.analyze(params="torch", batch=8).memory
    assert torch_counted == keras_counted  # BN's moving statistics are Keras variables either way
    assert spec.analyze(batch=0 + 1).memory.setup.batch == 1
