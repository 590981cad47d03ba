"""Precompute the learning curves behind notebook 06's dropout slider: `python -m course.commands.dropout_curves`.

Trains the 05 network with dropout (`p / 2` after the convolutions, `p` after the first linear layer) for
each rate `p`, on the same 1,000 training and 1,000 validation images as 06_regularization, in full mode,
and writes the per-epoch curves to `course/dropout_curves.json`, which `course.explorers.dropout_explorer`
draws. Run it again after changing the data split, the network or the number of epochs.
"""
import json
import sys
import time

from torch import nn

from .. import augment, data, training
from ..paths import PROJECT_ROOT

RATES = (0.0, 0.2, 0.4, 0.6, 0.8)
EPOCHS, N_TRAIN, N_VALIDATION = 15, 1000, 1000
OUTPUT = PROJECT_ROOT / "course" / "dropout_curves.json"


def network(p: float, num_classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(p / 2), nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(p),
        nn.Linear(128, num_classes))


def curves(rates=RATES, epochs: int = EPOCHS) -> dict:
    train_u8 = augment.fashion_uint8(train=True, limit=N_TRAIN)
    validation_u8, _ = data.split_dataset(augment.fashion_uint8(train=False), 0.5, seed=0)
    validation = training.loader(augment.normalised(augment.take(validation_u8, N_VALIDATION)), batch_size=500)
    clean_train = training.loader(augment.normalised(train_u8), batch_size=500)
    runs = {}
    for p in rates:
        training.seed_everything(0)
        model = network(p)
        train_data = training.loader(augment.normalised(train_u8), batch_size=32, shuffle=True, seed=0)
        start = time.perf_counter()
        history = training.fit(model, train_data, validation, epochs=epochs, description=f"dropout {p:g}")
        _, clean = training.evaluate_model(model, clean_train)
        runs[f"{p:g}"] = {**history, "clean_train_acc": clean, "seconds": round(time.perf_counter() - start, 1)}
    return {"about": "06_regularization's dropout slider: the 05 network with Dropout(p / 2) after the convolutions "
                     "and Dropout(p) after the first linear layer, Adam, batches of 32, "
                     f"{N_TRAIN} training and {N_VALIDATION} validation images, {epochs} epochs, seed 0; "
                     "made by `python -m course.commands.dropout_curves`",
            "rates": [float(p) for p in rates], "epochs": epochs, "runs": runs}


def main() -> int:
    found = curves()
    OUTPUT.write_text(json.dumps(found, indent=1) + "\n")
    print(f"wrote {OUTPUT.relative_to(PROJECT_ROOT)}: rates {found['rates']}, {found['epochs']} epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
