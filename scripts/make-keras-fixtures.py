#!/usr/bin/env python3
"""
Makes the Keras fixtures under test/fixtures/keras/ with real TensorFlow/Keras, so that the converter's
tests compare onnxruntime's answers with Keras's own, not with another implementation of the same layers.

This is a fixture maker, not a dependency: the project and CI never run it. To re-make the fixtures:

    python3 -m venv .venv && .venv/bin/pip install tensorflow-cpu h5py
    .venv/bin/python scripts/make-keras-fixtures.py

For each model NAME it writes test/fixtures/keras/NAME/:
  model.keras        Keras 3's zip (config.json, metadata.json, model.weights.h5)
  model.h5           the legacy HDF5 full model, as Keras 3 writes it
  model.weights.h5   the weights alone (Keras 3 layout), with config.json beside it for `--config`
  config.json        model.to_json(), for `convert model.weights.h5 --config config.json`
  io.json            inputs (name, shape, data) and Keras's outputs for them, from model.predict,
                     plus the outputs Keras gives after loading model.keras and model.h5 back
and for a few models keras2.h5: the Keras 2 (tf-keras) layout, built with h5py following Keras 2's
saving code (keras 2.15 `legacy/saving/hdf5_format.py`): root attributes model_config / keras_version /
backend, `model_weights/<layer>/<layer>/<weight>:0` datasets and `layer_names` / `weight_names`
attributes. Keras 3 loads it with its legacy loader, and the outputs it then gives are recorded in io.json
as `keras2Outputs`.

The Lambda fixture (lambda-layer/) is never loaded here with safe_mode off: its body would write a
marker file, and the converter's test checks that the marker never appears.

Everything is seeded; the files are small (a few KB to ~60 KB each).
"""
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "keras")
SAMPLES = 4


def seeded(seed):
    keras.utils.set_random_seed(seed)
    return np.random.default_rng(seed)


def perturb(model, rng):
    """Random initial weights leave biases and batch-norm statistics at 0 and 1; make every weight count."""
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        new = []
        for w in weights:
            if w.dtype.kind != "f":
                new.append(w)
                continue
            noise = rng.normal(0, 0.1, size=w.shape).astype(w.dtype)
            new.append((w + noise).astype(w.dtype))
        # moving_variance must stay positive
        if isinstance(layer, layers.BatchNormalization):
            new[-1] = np.abs(new[-1]) + 0.5
        layer.set_weights(new)


def model_mlp():
    rng = seeded(1)
    m = keras.Sequential([
        keras.Input((20,), name="features"),
        layers.Dense(16, activation="relu", name="hidden"),
        layers.Dropout(0.2),
        layers.Dense(5, activation="softmax", name="probabilities"),
    ], name="mlp")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 20)).astype("float32")]


def model_cnn_batchnorm():
    rng = seeded(2)
    m = keras.Sequential([
        keras.Input((12, 12, 1), name="image"),
        layers.Conv2D(4, 3, padding="same", name="conv"),
        layers.BatchNormalization(name="bn"),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(6, 3, strides=2, padding="valid", activation="relu"),
        layers.AveragePooling2D(1),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ], name="cnn_batchnorm")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 12, 12, 1)).astype("float32")]


def model_residual():
    rng = seeded(3)
    x = keras.Input((8,), name="x")
    h = layers.Dense(8, activation="relu", name="block1")(x)
    h = layers.Add(name="skip1")([x, h])
    g = layers.Dense(8, activation="tanh", name="block2")(h)
    g = layers.Add(name="skip2")([h, g])
    y = layers.Dense(2, name="y")(g)
    m = keras.Model(x, y, name="residual")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 8)).astype("float32")]


def model_two_inputs():
    rng = seeded(4)
    a = keras.Input((6,), name="a")
    b = keras.Input((4,), name="b")
    ha = layers.Dense(5, activation="relu")(a)
    hb = layers.Dense(5, activation="sigmoid")(b)
    c = layers.Concatenate(name="concat")([ha, hb])
    score = layers.Dense(1, name="score")(c)
    klass = layers.Dense(3, activation="softmax", name="klass")(c)
    m = keras.Model([a, b], [score, klass], name="two_inputs")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 6)).astype("float32"), rng.normal(size=(SAMPLES, 4)).astype("float32")]


def model_merges():
    rng = seeded(5)
    x = keras.Input((6,), name="x")
    p = layers.Dense(4, name="p")(x)
    q = layers.Dense(4, name="q")(x)
    outs = [
        layers.Subtract(name="sub")([p, q]),
        layers.Multiply(name="mul")([p, q]),
        layers.Average(name="avg")([p, q]),
        layers.Maximum(name="max")([p, q]),
    ]
    m = keras.Model(x, outs, name="merges")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 6)).astype("float32")]


def model_depthwise_separable():
    rng = seeded(6)
    m = keras.Sequential([
        keras.Input((10, 10, 3), name="image"),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise"),
        layers.SeparableConv2D(4, 3, padding="valid", activation="relu", name="separable"),
        layers.Conv2D(2, 3, dilation_rate=2, padding="same", name="dilated"),
        layers.GlobalAveragePooling2D(),
    ], name="depthwise_separable")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 10, 10, 3)).astype("float32")]


def model_conv1d():
    rng = seeded(7)
    m = keras.Sequential([
        keras.Input((16, 3), name="signal"),
        layers.Conv1D(4, 3, padding="same", activation="relu"),
        layers.MaxPooling1D(2),
        layers.Conv1D(4, 3, dilation_rate=2, padding="valid"),
        layers.AveragePooling1D(2),
        layers.GlobalMaxPooling1D(),
        layers.Dense(2),
    ], name="conv1d")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 16, 3)).astype("float32")]


def recurrent(name, seed, make):
    rng = seeded(seed)
    m = keras.Sequential([keras.Input((5, 3), name="sequence"), make()], name=name)
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 5, 3)).astype("float32")]


def model_lstm_sequences():
    return recurrent("lstm_sequences", 8, lambda: layers.LSTM(4, return_sequences=True, name="lstm"))


def model_lstm_last():
    return recurrent("lstm_last", 9, lambda: layers.LSTM(4, name="lstm"))


def model_gru_sequences():
    return recurrent("gru_sequences", 10, lambda: layers.GRU(4, return_sequences=True, name="gru"))


def model_gru_last_reset_before():
    return recurrent("gru_last_reset_before", 11, lambda: layers.GRU(4, reset_after=False, name="gru"))


def model_simple_rnn():
    return recurrent("simple_rnn", 12, lambda: layers.SimpleRNN(4, return_sequences=True, name="rnn"))


def model_bidirectional():
    rng = seeded(13)
    m = keras.Sequential([
        keras.Input((5, 3), name="sequence"),
        layers.Bidirectional(layers.LSTM(3, return_sequences=True), name="bilstm"),
        layers.Bidirectional(layers.GRU(2), merge_mode="sum", name="bigru"),
    ], name="bidirectional")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 5, 3)).astype("float32")]


def model_backwards_recurrent():
    rng = seeded(21)
    m = keras.Sequential([
        keras.Input((5, 3), name="sequence"),
        layers.LSTM(3, go_backwards=True, return_sequences=True, name="lstm_backwards"),
        layers.SimpleRNN(2, go_backwards=True, name="rnn_backwards"),
    ], name="backwards_recurrent")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 5, 3)).astype("float32")]


def model_bidirectional_merges():
    rng = seeded(22)
    m = keras.Sequential([
        keras.Input((4, 3), name="sequence"),
        layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode="ave", name="bi_ave"),
        layers.Bidirectional(layers.GRU(2, reset_after=False, return_sequences=True), merge_mode="mul", name="bi_mul"),
        layers.Bidirectional(layers.LSTM(2), name="bi_concat_last"),
    ], name="bidirectional_merges")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 4, 3)).astype("float32")]


def model_embedding_text():
    rng = seeded(14)
    m = keras.Sequential([
        keras.Input((7,), dtype="int32", name="tokens"),
        layers.Embedding(30, 8, name="embedding"),
        layers.GlobalAveragePooling1D(),
        layers.Dense(2, activation="softmax"),
    ], name="embedding_text")
    perturb(m, rng)
    return m, [rng.integers(0, 30, size=(SAMPLES, 7)).astype("int32")]


def model_transpose_upsampling():
    rng = seeded(15)
    m = keras.Sequential([
        keras.Input((4, 4, 2), name="latent"),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", name="deconv"),
        layers.UpSampling2D(2, name="up"),
        layers.Conv2DTranspose(1, 2, strides=1, padding="valid", activation="sigmoid"),
    ], name="transpose_upsampling")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 4, 4, 2)).astype("float32")]


def model_layernorm_gelu():
    rng = seeded(16)
    m = keras.Sequential([
        keras.Input((10,), name="x"),
        layers.Dense(12, name="proj"),
        layers.LayerNormalization(name="ln"),
        layers.Activation("gelu"),
        layers.Dense(4),
    ], name="layernorm_gelu")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 10)).astype("float32")]


def model_rescaling_normalization():
    rng = seeded(17)
    norm = layers.Normalization(name="norm")
    norm.adapt(rng.normal(3, 2, size=(64, 6)).astype("float32"))
    m = keras.Sequential([
        keras.Input((6,), name="raw"),
        layers.Rescaling(1 / 255.0, offset=-0.5, name="rescale"),
        norm,
        layers.Dense(3),
    ], name="rescaling_normalization")
    return m, [(rng.random(size=(SAMPLES, 6)) * 255).astype("float32")]


def model_normalization_variants():
    """Normalization with mean and variance in its config, and an adapted one inverted, on a rank-3 input."""
    rng = seeded(23)
    adapted = layers.Normalization(axis=-1, invert=True, name="denormalize")
    adapted.adapt(rng.normal(-1, 3, size=(32, 4, 3)).astype("float32"))
    m = keras.Sequential([
        keras.Input((4, 3), name="frames"),
        layers.Normalization(axis=-1, mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1e-16], name="given"),
        adapted,
        layers.Rescaling(2.0, offset=0.25, name="rescale"),
    ], name="normalization_variants")
    return m, [rng.normal(size=(SAMPLES, 4, 3)).astype("float32")]


ACTIVATIONS = ["relu", "leaky_relu", "elu", "selu", "gelu", "swish", "silu", "sigmoid", "hard_sigmoid",
               "tanh", "softmax", "softplus", "softsign", "linear"]


def model_activations():
    rng = seeded(18)
    x = keras.Input((6,), name="x")
    h = layers.Dense(6, name="pre")(x)
    outs = [layers.Activation(a, name=f"act_{a}")(h) for a in ACTIVATIONS]
    m = keras.Model(x, outs, name="activations")
    perturb(m, rng)
    return m, [(rng.normal(size=(SAMPLES, 6)) * 3).astype("float32")]


def model_shape_layers():
    rng = seeded(19)
    m = keras.Sequential([
        keras.Input((6, 6, 2), name="image"),
        layers.ZeroPadding2D(((1, 0), (2, 1))),
        layers.Cropping2D(((0, 1), (1, 1))),
        layers.SpatialDropout2D(0.3),
        layers.Permute((3, 1, 2)),
        layers.Reshape((2, 42)),
        layers.Flatten(),
        layers.Dense(4),
        layers.RepeatVector(3),
    ], name="shape_layers")
    perturb(m, rng)
    return m, [rng.normal(size=(SAMPLES, 6, 6, 2)).astype("float32")]


MODELS = {
    "mlp": model_mlp,
    "cnn-batchnorm": model_cnn_batchnorm,
    "residual": model_residual,
    "two-inputs": model_two_inputs,
    "merges": model_merges,
    "depthwise-separable": model_depthwise_separable,
    "conv1d": model_conv1d,
    "lstm-sequences": model_lstm_sequences,
    "lstm-last": model_lstm_last,
    "gru-sequences": model_gru_sequences,
    "gru-last-reset-before": model_gru_last_reset_before,
    "simple-rnn": model_simple_rnn,
    "bidirectional": model_bidirectional,
    "bidirectional-merges": model_bidirectional_merges,
    "backwards-recurrent": model_backwards_recurrent,
    "embedding-text": model_embedding_text,
    "transpose-upsampling": model_transpose_upsampling,
    "layernorm-gelu": model_layernorm_gelu,
    "rescaling-normalization": model_rescaling_normalization,
    "normalization-variants": model_normalization_variants,
    "activations": model_activations,
    "shape-layers": model_shape_layers,
}

KERAS2_MODELS = ["mlp", "cnn-batchnorm"]


def tensors(names, arrays):
    return [{"name": n, "dtype": str(a.dtype), "shape": list(a.shape), "data": a.reshape(-1).tolist()}
            for n, a in zip(names, arrays)]


def as_list(y):
    return [np.asarray(t) for t in (y if isinstance(y, (list, tuple)) else [y])]


def output_names(model):
    return [t._keras_history.operation.name for t in model.outputs]


def predict(model, xs):
    return as_list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))


def max_diff(a, b):
    return max(float(np.max(np.abs(x.astype("float64") - y.astype("float64")))) for x, y in zip(a, b))


def keras2_config(model):
    """Keras 2's model_config: class names without module or registered_name, batch_input_shape on InputLayer."""
    def strip(obj):
        if isinstance(obj, dict):
            if "module" in obj and "class_name" in obj:
                out = {"class_name": obj["class_name"], "config": strip(obj.get("config", {}))}
                if obj["class_name"] == "InputLayer":
                    cfg = out["config"]
                    cfg["batch_input_shape"] = cfg.pop("batch_shape")
                    cfg.pop("optional", None)
                return out
            return {k: strip(v) for k, v in obj.items() if k not in ("registered_name", "build_config", "compile_config")}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    cfg = strip(json.loads(model.to_json()))

    def dtypes(obj):
        # Keras 3 writes dtype policies as objects; Keras 2 wrote the dtype name.
        if isinstance(obj, dict):
            if obj.get("class_name") == "DTypePolicy":
                return obj["config"]["name"]
            return {k: dtypes(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [dtypes(v) for v in obj]
        return obj

    return dtypes(cfg)


KERAS2_WEIGHT_NAMES = {
    "Dense": ["kernel", "bias"],
    "Conv2D": ["kernel", "bias"],
    "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"],
}


def write_keras2_h5(model, path):
    """The Keras 2 full-model HDF5 layout (tf-keras 2.15 hdf5_format.save_model_to_hdf5), written with h5py."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(keras2_config(model))
        g = f.create_group("model_weights")
        names = [l.name for l in model.layers]
        g.attrs["layer_names"] = [n.encode("utf8") for n in names]
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "2.15.0"
        for layer in model.layers:
            lg = g.create_group(layer.name)
            weights = layer.get_weights()
            kinds = KERAS2_WEIGHT_NAMES.get(type(layer).__name__, [])
            if weights and len(kinds) != len(weights):
                raise SystemExit(f"no Keras 2 weight names for {type(layer).__name__}")
            wnames = [f"{layer.name}/{k}:0" for k in kinds[: len(weights)]]
            lg.attrs["weight_names"] = [n.encode("utf8") for n in wnames]
            for n, w in zip(wnames, weights):
                lg.create_dataset(n, data=w)


def make(name, build):
    model, xs = build()
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    ys = predict(model, xs)
    model.save(os.path.join(out, "model.keras"))
    model.save(os.path.join(out, "model.h5"))
    model.save_weights(os.path.join(out, "model.weights.h5"))
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(model.to_json())
    loaded_keras = keras.saving.load_model(os.path.join(out, "model.keras"))
    loaded_h5 = keras.saving.load_model(os.path.join(out, "model.h5"), compile=False)
    io = {
        "model": name,
        "kerasVersion": keras.__version__,
        "tensorflowVersion": tf.__version__,
        "inputs": tensors([t._keras_history.operation.name for t in model.inputs], xs),
        "outputs": tensors(output_names(model), ys),
        "reloadedDiff": {"keras": max_diff(ys, predict(loaded_keras, xs)), "h5": max_diff(ys, predict(loaded_h5, xs))},
        # Each layer's weights in layer.weights order: shape and float64 sum, so that a reader's order is checked.
        "weights": {l.name: [{"shape": list(w.shape), "sum": float(np.asarray(w, dtype="float64").sum())} for w in l.weights]
                    for l in model.layers},
    }
    if name in KERAS2_MODELS:
        path = os.path.join(out, "keras2.h5")
        write_keras2_h5(model, path)
        loaded2 = keras.saving.load_model(path, compile=False)
        io["keras2Outputs"] = tensors(output_names(loaded2), predict(loaded2, xs))
    with open(os.path.join(out, "io.json"), "w") as f:
        json.dump(io, f)
    print(f"{name}: {len(model.layers)} layers, reload diff keras {io['reloadedDiff']['keras']:.1e} h5 {io['reloadedDiff']['h5']:.1e}")


def make_lambda_fixture():
    """A model whose Lambda layer would write a marker file if its code ever ran."""
    seeded(20)
    out = os.path.join(ROOT, "lambda-layer")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    marker = "/tmp/modelship-lambda-layer-ran"
    body = lambda x: (open(marker, "w").write("the Lambda layer's code ran"), x)[1]  # noqa: E731
    m = keras.Sequential([keras.Input((3,), name="x"), layers.Dense(2, name="dense"), layers.Lambda(body, name="evil")],
                         name="lambda_layer")
    m.save(os.path.join(out, "model.keras"))
    m.save(os.path.join(out, "model.h5"))
    if os.path.exists(marker):
        os.remove(marker)  # saving traces the layer; the test checks that converting never recreates it
    with open(os.path.join(out, "io.json"), "w") as f:
        json.dump({"model": "lambda-layer", "marker": marker, "kerasVersion": keras.__version__}, f)
    print("lambda-layer: written")


def make_bad_fixtures():
    """Files that must be refused with a clear error: each is made from the mlp fixture."""
    import zipfile
    src = os.path.join(ROOT, "mlp")
    out = os.path.join(ROOT, "bad")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with zipfile.ZipFile(os.path.join(src, "model.keras")) as z:
        entries = {n: z.read(n) for n in z.namelist()}

    def write_zip(name, files):
        with zipfile.ZipFile(os.path.join(out, name), "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in files.items():
                z.writestr(n, data)

    meta = json.loads(entries["metadata.json"])
    write_zip("future-version.keras", {**entries, "metadata.json": json.dumps({**meta, "keras_version": "4.0.0"})})
    write_zip("no-weights.keras", {n: d for n, d in entries.items() if n != "model.weights.h5"})
    # 16 MiB of zeros inflates from about 16 KB: the reader's size cap must stop it before it inflates.
    write_zip("bomb.keras", {**entries, "model.weights.h5": bytes(16 * 1024 * 1024)})
    config = json.loads(entries["config.json"])
    config["config"]["layers"][1]["registered_name"] = "my_package>MyDense"
    config["config"]["layers"][1]["module"] = "my_package.layers"
    write_zip("custom-object.keras", {**entries, "config.json": json.dumps(config)})
    config = json.loads(entries["config.json"])
    config["config"]["layers"][1]["class_name"] = "FancyDense"
    write_zip("unknown-class.keras", {**entries, "config.json": json.dumps(config)})
    # NaN in a weight: h5py copies the weights file and poisons one kernel element.
    nan_path = os.path.join(out, "nan.weights.h5")
    shutil.copy(os.path.join(src, "model.weights.h5"), nan_path)
    with h5py.File(nan_path, "r+") as f:
        k = f["layers/dense/vars/0"]
        v = k[...]
        v[3, 2] = np.nan
        k[...] = v
    shutil.copy(os.path.join(src, "config.json"), os.path.join(out, "nan.config.json"))
    print("bad: written")


def main():
    only = set(sys.argv[1:])
    for name, build in MODELS.items():
        if not only or name in only:
            make(name, build)
    if not only or "lambda-layer" in only:
        make_lambda_fixture()
    if not only or "bad" in only:
        make_bad_fixtures()


if __name__ == "__main__":
    main()
