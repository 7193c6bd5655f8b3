#!/usr/bin/env python3
"""
The Keras end of the project's Keras example: trains the 784-100-10 MLP with Keras 3 on the project's own
MNIST split, saves it as mnist.keras, and records what Keras itself says about it in keras-results.json, so
that test/convert/keras-mnist-example.test.ts can hold the ONNX model `modelship package` makes from
mnist.keras to Keras's own answers.

This is run by hand to re-make the example, never by the project or CI; TensorFlow is not a dependency:

    npm run export:mnist -- /tmp/mnist-split.bin
    python3 -m venv .venv && .venv/bin/pip install tensorflow-cpu
    .venv/bin/python examples/keras-mnist/train.py --data /tmp/mnist-split.bin

The data comes from scripts/export-mnist-split.ts rather than keras.datasets.mnist: that one downloads
another set of digits, and the point is the same split as models/mnist-mlp (train on 8,495, hold out 1,505).

Weights, predictions and keras-results.json come out the same on every run on the same machine (seeded,
deterministic ops, one thread); mnist.keras's bytes do not, since Keras records the save time in it.
"""
import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT_FORMAT = "modelship-mnist-split/v1"
PIXELS = 784
CLASSES = 10
RECORDED_ROWS = 20


def read_split(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        newline = raw.index(b"\n")
        header = json.loads(raw[:newline])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != SPLIT_FORMAT:
        sys.exit(f"train.py: {path} is not a {SPLIT_FORMAT} file; make it with `npm run export:mnist -- {path}`")
    body = memoryview(raw)[newline + 1:]
    sections = {
        s["name"]: np.frombuffer(body[s["offset"]:s["offset"] + s["bytes"]], dtype=np.uint8) for s in header["sections"]
    }
    split = {}
    for part, count in (("train", header["train"]), ("eval", header["eval"])):
        pixels = sections[f"{part}.pixels"].reshape(count, PIXELS)
        labels = sections[f"{part}.labels"]
        split[part] = (pixels, labels)
    return header, split


def to_float(pixels):
    # float32(uint8 / 255) with the division in float64, as the project's tfjs pipeline and its test compute it:
    # a float32 division could round a few pixels differently.
    return (pixels.astype(np.float64) / 255).astype(np.float32)


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description="train the Keras MNIST example on the project's split")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "mnist-split.bin"),
                        help="the file `npm run export:mnist -- FILE` wrote")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=HERE, help="where mnist.keras and keras-results.json are written")
    args = parser.parse_args()
    if not os.path.exists(args.data):
        sys.exit(f"train.py: {args.data} does not exist; make it with `npm run export:mnist -- {args.data}`")

    # One thread and deterministic ops: the same weights on every run, not just the same seed.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(args.seed)

    header, split = read_split(args.data)
    train_pixels, train_labels = split["train"]
    eval_pixels, eval_labels = split["eval"]
    print(f"split: {len(train_labels)} train / {len(eval_labels)} eval digits ({header['split']})")

    # Names as in models/mnist-mlp: the package's input is `input` and its output `probabilities`.
    model = keras.Sequential([
        keras.Input((PIXELS,), name="input"),
        layers.Dense(100, activation="relu", name="hidden"),
        layers.Dense(CLASSES, activation="softmax", name="probabilities"),
    ], name="mnist_keras")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(to_float(train_pixels), train_labels, epochs=args.epochs, batch_size=args.batch, verbose=2)

    keras_file = os.path.join(args.out, "mnist.keras")
    model.save(keras_file)
    # What the package is built from is the saved file, so measure that, not the model still in memory.
    saved = keras.saving.load_model(keras_file)
    probs = saved.predict(to_float(eval_pixels), batch_size=256, verbose=0)
    in_memory = model.predict(to_float(eval_pixels), batch_size=256, verbose=0)
    if not np.array_equal(probs, in_memory):
        sys.exit("train.py: mnist.keras, loaded back, does not answer as the model that was saved")
    predicted = probs.argmax(axis=1)
    correct = int((predicted == eval_labels).sum())
    accuracy = correct / len(eval_labels)
    print(f"held-out accuracy (Keras, {len(eval_labels)} digits): {accuracy:.4f} ({correct} / {len(eval_labels)})")

    with open(keras_file, "rb") as f:
        keras_sha256 = hashlib.sha256(f.read()).hexdigest()
    results = {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "kerasFile": {"name": "mnist.keras", "sha256": keras_sha256},
        "split": header["split"],
        "train": {"count": int(len(train_labels)), "pixelsSha256": sha256(train_pixels), "labelsSha256": sha256(train_labels)},
        "heldOut": {"count": int(len(eval_labels)), "pixelsSha256": sha256(eval_pixels), "labelsSha256": sha256(eval_labels)},
        "training": {
            "optimizer": "adam",
            "learningRate": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
            "loss": "sparse_categorical_crossentropy",
            "epochs": args.epochs,
            "batch": args.batch,
            "seed": args.seed,
            "lossPerEpoch": [float(v) for v in history.history["loss"]],
        },
        "accuracy": accuracy,
        "correct": correct,
        # One character per held-out digit, in the split's order: Keras's class for it (argmax, first on a tie).
        "predicted": "".join(str(int(d)) for d in predicted),
        # float32 values written as the float64 they convert to exactly, so nothing is lost in the JSON.
        "probabilities": {
            "rows": RECORDED_ROWS,
            "note": f"Keras's predict() on the first {RECORDED_ROWS} held-out digits, from mnist.keras loaded back",
            "data": [[float(v) for v in row] for row in probs[:RECORDED_ROWS]],
        },
    }
    results_file = os.path.join(args.out, "keras-results.json")
    with open(results_file, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(f"wrote {os.path.relpath(keras_file)} ({os.path.getsize(keras_file)} bytes) and {os.path.relpath(results_file)}")


if __name__ == "__main__":
    main()
