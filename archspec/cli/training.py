"""`archspec train` and `predict`: the course's six steps on a data set, and a trained run applied
to images. Both import Keras, when they run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..api import load
from .common import EXIT_OK, add_network_options, output_stem, read_input_shape, read_overrides, size_limits
from .values import add_verbose_flag, positive_integer


def add_training_commands(commands: Any) -> None:
    train = commands.add_parser("train", help="train the network on a data set, with checkpoint and resume")
    train.add_argument("spec", metavar="SPEC")
    train.add_argument("--data", required=True, metavar="DATA",
                       help="cifar10, mnist, fashion_mnist, a .npz (x_train, y_train, x_test, y_test) or a folder of class folders")
    train.add_argument("--epochs", type=positive_integer, default=5, metavar="N", help="epochs in total, counting resumed ones (default 5)")
    train.add_argument("--batch-size", type=positive_integer, default=32, metavar="B")
    train.add_argument("--optimizer", default="adam", help="adam, adamw, sgd, rmsprop, nadam or adagrad (default adam)")
    train.add_argument("--lr", type=float, default=None, metavar="X", help="learning rate (default: the optimizer's)")
    train.add_argument("--val-split", type=float, default=None, metavar="F", help="hold out this fraction of training data for validation")
    train.add_argument("--augment", action="store_true", help="random horizontal flips and shifts")
    train.add_argument("--out", default=None, metavar="RUN_DIR", help="run folder (default: runs/NAME)")
    train.add_argument("--task", metavar="TASK", help="classification, segmentation, regression or multilabel "
                                                   "(default: from the output and the data; a per-pixel softmax is segmentation)")
    train.add_argument("--distribute", choices=("mirrored", "multi-worker"), default=None,
                       help="mirrored: all visible GPUs; multi-worker: the cluster TF_CONFIG describes (run it on every worker)")
    add_network_options(train)
    add_verbose_flag(train)
    train.set_defaults(handler=cmd_train)

    predict = commands.add_parser("predict", help="run a trained network on images: classes, values, or masks as PNG")
    predict.add_argument("run", metavar="RUN_DIR")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--top", type=positive_integer, default=3, metavar="K")
    predict.add_argument("--out", metavar="DIR", help="where a segmentation run writes NAME.mask.png (default: .)")
    add_verbose_flag(predict)
    predict.set_defaults(handler=cmd_predict)


def cmd_train(args: argparse.Namespace) -> int:
    from ..train import TrainOptions, train  # imports Keras: only training pays for it

    architecture = load(args.spec, size_limits(args))
    out = Path(args.out) if args.out else Path("runs") / output_stem(args.spec, architecture)
    options = TrainOptions(
        data=args.data, epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, learning_rate=args.lr,
        val_split=args.val_split, augment=args.augment, out=out, distribute=args.distribute, task=args.task,
        overrides=read_overrides(args), input_shape=read_input_shape(args),
    )
    try:
        run = train(architecture, options)
    except KeyboardInterrupt:
        return 130
    print(f"run folder: {run} (best.keras, last.keras, history.csv, curves.png, summary.txt, weights.npz, spec.arch, run.json, state.json)")
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    from ..train import predict

    for prediction in predict(Path(args.run), args.images, args.top, Path(args.out) if args.out else None):
        ranked = ", ".join(f"{name} {probability:.1%}" for name, probability in prediction.top)
        if prediction.mask is not None:
            print(f"{prediction.image}: wrote {prediction.mask} (by area: {ranked})")
        elif prediction.values:
            print(f"{prediction.image}: {', '.join(f'{value:.6g}' for value in prediction.values)}")
        else:
            print(f"{prediction.image}: {ranked}")
    return EXIT_OK
