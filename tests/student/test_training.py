import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402

from course import plots, training  # noqa: E402


def _toy(n=256, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=generator)
    y = (x.sum(dim=(1, 2, 3)) > 0).long()
    return TensorDataset(x, y)


def _model():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))


def test_seed_everything_makes_weights_and_batches_repeatable():
    training.seed_everything(3)
    a = _model()[1].weight.clone()
    first = next(iter(training.loader(_toy(), 8, shuffle=True, seed=1)))[1]
    training.seed_everything(3)
    b = _model()[1].weight.clone()
    second = next(iter(training.loader(_toy(), 8, shuffle=True, seed=1)))[1]
    assert torch.equal(a, b) and torch.equal(first, second)


def test_fit_learns_and_reports_one_value_per_epoch(capsys):
    training.seed_everything(0)
    model = _model()
    data = training.loader(_toy(), 32, shuffle=True)
    history = training.fit(model, data, training.loader(_toy(64, 1), 64), epochs=3,
                           optimizer=torch.optim.Adam(model.parameters(), lr=0.05))
    assert all(len(values) == 3 for values in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] > 0.8
    assert capsys.readouterr().err == "", "progress bars must not write to stderr"


def test_evaluate_model_runs_without_gradients_in_eval_mode():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 2))
    seen = []
    model[2].register_forward_hook(lambda module, args, out: seen.append((torch.is_grad_enabled(), module.training)))
    loss, accuracy = training.evaluate_model(model, training.loader(_toy(64), 16))
    assert seen and all(state == (False, False) for state in seen)
    assert loss > 0 and 0 <= accuracy <= 1


def test_plot_history_draws_train_and_validation_curves():
    plt.close("all")
    history = {"train_loss": [1, 0.5], "val_loss": [1.1, 0.7], "train_acc": [0.5, 0.8], "val_acc": [0.4, 0.7]}
    plots.plot_history({"plain": history, "dropout": history}, title="demo")
    figure = plt.gcf()
    loss_axis, acc_axis = figure.axes
    assert len(loss_axis.lines) == 4 and len(acc_axis.lines) == 4
    assert np.allclose(loss_axis.lines[0].get_ydata(), [1, 0.5])


def test_show_images_titles_every_panel_and_writes_small_values():
    plt.close("all")
    plots.show_images([np.eye(3), np.ones((3, 3))], ["identity", "ones"], values=True)
    axes = plt.gcf().axes
    assert [a.get_title() for a in axes] == ["identity", "ones"]
    assert len(axes[0].texts) == 9


def test_show_map_rows_puts_one_input_a_row_and_one_channel_a_column():
    plt.close("all")
    maps = torch.rand(2, 3, 5, 5)
    plots.show_map_rows({"X": maps[0], "O": maps[1]}, titles=["a", "b", "c"], suptitle="demo")
    axes = plt.gcf().axes
    assert len(axes) == 6
    assert [a.get_title() for a in axes[:3]] == ["a", "b", "c"]
    assert axes[0].get_ylabel() == "X" and axes[3].get_ylabel() == "O"
    assert np.allclose(axes[4].images[0].get_array(), maps[1, 1].numpy())


def test_show_map_rows_rejects_rows_of_different_lengths():
    import pytest

    with pytest.raises(ValueError, match="same number"):
        plots.show_map_rows({"X": np.zeros((3, 4, 4)), "O": np.zeros((2, 4, 4))})



def test_confusion_matrix_counts_true_classes_down_and_predictions_across():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predicted = torch.tensor([0, 1, 1, 2, 0, 0])
    matrix = training.confusion_matrix(labels, predicted, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [2, 0, 1]]
    assert training.most_confused(matrix, top=5) == [(2, 0, 2), (0, 1, 1)]
    plt.close("all")
    plots.show_confusion_matrix(matrix, ["a", "b", "c"], title="demo")
    axis = plt.gcf().axes[0]
    assert len(axis.texts) == 9 and axis.get_title() == "demo"


def test_confusion_matrix_rejects_mismatched_lengths():
    import pytest

    with pytest.raises(ValueError):
        training.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2)
