"""Training on several machines: `--distribute multi-worker`, TensorFlow's
MultiWorkerMirroredStrategy over the cluster that `TF_CONFIG` describes (TensorFlow's own
convention, so any launcher that sets it works: Kubernetes TFJob, Slurm scripts, cloud
training services).

Takes `TF_CONFIG`, the compiled model, the task and the data; runs the epochs with a training
loop of its own. Keras 3's `model.fit` fails under this strategy on its first step
(keras-team/keras#20585, open with Keras 3.15), so each step is `strategy.run` of a step that
computes the loss, applies the gradients (Keras' optimizer sums them across the workers) and
updates the metrics, which the strategy keeps in sync. Each worker takes its own equal share of
the samples; only the chief writes the run folder (run.py). TensorFlow is imported inside
functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from ..backend import load_keras, load_tensorflow
from .data import _error


@dataclass(frozen=True)
class Worker:
    """This process's place in the cluster: its index among all workers (the chief first)."""

    index: int
    count: int

    @property
    def chief(self) -> bool:
        return self.index == 0


ALONE = Worker(0, 1)


def worker_from_tf_config(text: str | None) -> Worker:
    """`TF_CONFIG` read as TensorFlow reads it: the cluster's "chief" (at most one) and
    "worker" lists and this task's type and index; without a "chief", worker 0 is the chief."""
    if not text:
        raise _error("--distribute multi-worker needs the TF_CONFIG environment variable, set on every worker of the cluster",
                     'e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\'')
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        members = {"chief": list(cluster.get("chief", [])), "worker": list(cluster.get("worker", []))}
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise _error(f"TF_CONFIG is not TensorFlow's cluster description ({type(error).__name__}: {error})",
                     'it is JSON with "cluster" (lists of "host:port" under "worker", optionally "chief") and "task" ({"type", "index"})') from None
    if kind not in members or not 0 <= index < len(members[kind]):
        raise _error(f"TF_CONFIG's task {kind} {index} is not in its cluster "
                     f"({len(members['chief'])} chief, {len(members['worker'])} workers)")
    position = index if kind == "chief" else len(members["chief"]) + index
    return Worker(position, len(members["chief"]) + len(members["worker"]))


def share(images: Any, labels: Any, worker: Worker) -> tuple[Any, Any]:
    """This worker's samples: every count-th of an equal share (up to count - 1 samples are left
    out), so that all take the same number of steps, as a collective step waits for every one."""
    usable = len(images) // worker.count * worker.count
    return images[worker.index:usable:worker.count], labels[worker.index:usable:worker.count]


def fit_across_workers(strategy: Any, model: Any, task: Any, batches: Callable[[Any, Any, bool], Any], data: Any,
                       epochs: tuple[int, int], on_epoch_end: Callable[[int, dict], None], worker: Worker) -> None:
    """Train epochs `epochs[0]` to `epochs[1] - 1` in step with the other workers; after each,
    `on_epoch_end(epoch, logs)` with Keras' names for the figures (loss, metrics, val_...)."""
    tf, keras = load_tensorflow(), load_keras()
    optimizer = model.optimizer
    with strategy.scope():  # every variable (metrics, the optimizer's slots) is the strategy's
        loss_fn = task.loss(keras)
        loss_fn.reduction = None  # per sample: the average is taken over the global batch
        train_metrics = [keras.metrics.Mean(name="loss"), *task.metrics(keras)]
        val_metrics = [keras.metrics.Mean(name="loss"), *task.metrics(keras)]
        if not optimizer.built:
            optimizer.build(model.trainable_variables)

    def dataset(images: Any, labels: Any, shuffle: bool) -> Any:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF  # shared out above
        return strategy.experimental_distribute_dataset(batches(*share(images, labels, worker), shuffle).with_options(options))

    def per_sample(losses: Any) -> Any:
        """One loss per sample: a segmentation loss per pixel is averaged over the pixels, as fit does."""
        return tf.reduce_mean(tf.reshape(losses, (tf.shape(losses)[0], -1)), axis=1)

    def update(metrics: list, y: Any, predicted: Any, losses: Any) -> None:
        metrics[0].update_state(losses)
        for metric in metrics[1:]:
            metric.update_state(y, predicted)

    @tf.function
    def train_step(x: Any, y: Any) -> None:
        def step(x: Any, y: Any) -> None:
            with tf.GradientTape() as tape:
                predicted = model(x, training=True)
                losses = per_sample(loss_fn(y, predicted))
                global_batch = tf.cast(tf.shape(losses)[0] * strategy.num_replicas_in_sync, losses.dtype)
                loss = tf.reduce_sum(losses) / global_batch
                if model.losses:  # the kernels' l1/l2 penalties, shared out among the replicas as fit does
                    loss += tf.add_n(model.losses) / strategy.num_replicas_in_sync
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            update(train_metrics, y, predicted, losses)

        strategy.run(step, args=(x, y))

    @tf.function
    def test_step(x: Any, y: Any) -> None:
        def step(x: Any, y: Any) -> None:
            predicted = model(x, training=False)
            update(val_metrics, y, predicted, per_sample(loss_fn(y, predicted)))

        strategy.run(step, args=(x, y))

    train_batches = dataset(data.x_train, data.y_train, True)
    val_batches = dataset(data.x_test, data.y_test, False) if data.x_test is not None else None
    for epoch in range(*epochs):
        for metric in (*train_metrics, *val_metrics):
            metric.reset_state()
        for x, y in train_batches:
            train_step(x, y)
        logs = {metric.name: float(metric.result()) for metric in train_metrics}
        if val_batches is not None:
            for x, y in val_batches:
                test_step(x, y)
            logs |= {f"val_{metric.name}": float(metric.result()) for metric in val_metrics}
        if worker.chief:
            print(f"Epoch {epoch + 1}/{epochs[1]}: " + ", ".join(f"{key} {value:.4f}" for key, value in logs.items()), flush=True)
        on_epoch_end(epoch, logs)
