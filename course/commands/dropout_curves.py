"""Precompute the learning curves behind notebook 06's dropout sliders: `python -m course.commands.dropout_curves`.

Trains 06's `FMNIST_Net2` (the 05 network with `Dropout(p_conv)` after the second pooling and `Dropout(p_fc)`
after the first linear layer) for every pair of rates, on the same 1,000 training and 1,000 validation images as
06_regularization, in full mode, and writes the per-epoch curves to `course/dropout_curves.json`, which
`course.explorers.dropout_explorer` draws. Run it again after changing the data split, the network or the
number of epochs.
"""
import json
import sys
import time

from torch import nn

from .. import augment, data, training
from ..paths import PROJECT_ROOT

CONV_RATES = (0.0, 0.25, 0.5, 0.75)
FC_RATES = (0.0, 0.25, 0.5, 0.75)
EPOCHS, N_TRAIN, N_VALIDATION = 15, 1000, 1000
OUTPUT = PROJECT_ROOT / "course" / "dropout_curves.json"


def network(p_conv: float, p_fc: float, num_classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(p_conv), nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(p_fc),
        nn.Linear(128, num_classes))


def run_key(p_conv: float, p_fc: float) -> str:
    return f"{p_conv:g}/{p_fc:g}"


def curves(conv_rates=CONV_RATES, fc_rates=FC_RATES, epochs: int = EPOCHS) -> dict:
    train_u8 = augment.fashion_uint8(train=True, limit=N_TRAIN)
    validation_u8, _ = data.split_dataset(augment.fashion_uint8(train=False), 0.5, seed=0)
    validation = training.loader(augment.normalised(augment.take(validation_u8, N_VALIDATION)), batch_size=500)
    clean_train = training.loader(augment.normalised(train_u8), batch_size=500)
    runs = {}
    for p_conv in conv_rates:
        for p_fc in fc_rates:
            training.seed_everything(0)
            model = network(p_conv, p_fc)
            train_data = training.loader(augment.normalised(train_u8), batch_size=32, shuffle=True, seed=0)
            start = time.perf_counter()
            history = training.fit(model, train_data, validation, epochs=epochs,
                                   description=f"dropout {p_conv:g} / {p_fc:g}")
            _, clean = training.evaluate_model(model, clean_train)
            runs[run_key(p_conv, p_fc)] = {**history, "clean_train_acc": clean,
                                           "seconds": round(time.perf_counter() - start, 1)}
    return {"about": "06_regularization's dropout sliders: FMNIST_Net2, the 05 network with Dropout(p_conv) after "
                     "the second pooling and Dropout(p_fc) after the first linear layer, Adam, batches of 32, "
                     f"{N_TRAIN} training and {N_VALIDATION} validation images, {epochs} epochs, seed 0",
            "conv_rates": [float(p) for p in conv_rates], "fc_rates": [float(p) for p in fc_rates],
            "epochs": epochs, "runs": runs}


def main() -> int:
    found = curves()
    OUTPUT.write_text(json.dumps(found, indent=1) + "\n")
    print(f"wrote {OUTPUT.relative_to(PROJECT_ROOT)}: p_conv {found['conv_rates']}, p_fc {found['fc_rates']}, "
          f"{found['epochs']} epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
