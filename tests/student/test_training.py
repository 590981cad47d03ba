import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
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


def test_the_helpers_weigh_losses_by_example_so_they_are_not_05s_answers():
    """05's `evaluate` and `train` report the mean of the batch losses; the helpers students hold before 05 is
    due must not: with batches of 16 and 4 the two means differ."""
    training.seed_everything(0)
    model = _model()
    data, criterion = training.loader(_toy(20), 16), torch.nn.CrossEntropyLoss()
    with torch.no_grad():
        batch_losses = [criterion(model(x), y).item() for x, y in data]
        per_example = criterion(model(data.dataset.tensors[0]), data.dataset.tensors[1]).item()
    assert abs(np.mean(batch_losses) - per_example) > 1e-4, "the toy data no longer tells the two means apart"
    assert training.evaluate_model(model, data)[0] == pytest.approx(per_example, abs=1e-6)
    history = training.fit(model, data, data, epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.0))
    assert history["val_loss"][0] == pytest.approx(per_example, abs=1e-6)
    assert history["train_loss"][0] == pytest.approx(per_example, abs=1e-6)  # a learning rate of 0 changes nothing


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

    with pytest.raises(ValueError):
        training.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2)


def test_lr_finder_restores_the_weights_stops_when_the_loss_blows_up_and_suggests_a_rate_that_learns():
    training.seed_everything(0)
    images, labels = _toy(512).tensors
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    found = training.lr_finder(model, images, labels, lambda parameters, lr: torch.optim.SGD(parameters, lr=lr),
                               start=1e-4, end=1e4, steps=90, batch_size=64)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the finder must restore the weights"
    rates, losses = np.array(found["lr"]), np.array(found["loss"])
    assert len(rates) == len(losses) and np.all(np.diff(rates) > 0) and np.isclose(rates[0], 1e-4)
    assert np.allclose(rates[1:] / rates[:-1], (1e4 / 1e-4) ** (1 / 89)), "the rate must grow geometrically"
    assert len(rates) < 90 and losses[-1] > 4 * losses.min(), "it must stop once the loss blows up"
    assert losses.min() < 0.7 * losses[0]
    assert found["suggested"] == rates[int(np.argmin(losses))] and rates[0] < found["suggested"] < rates[-1]
    # the suggested rate trains the toy problem well in a few steps
    optimizer = torch.optim.SGD(model.parameters(), lr=found["suggested"])
    for x, y in training.batches(images, labels, 64, torch.Generator().manual_seed(0)):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert training.accuracy(model, images, labels) > 0.9


def test_shift_and_flip_keeps_each_image_and_is_repeatable():
    images = torch.rand(64, 1, 8, 8)
    images[:, :, :2, :] = images[:, :, -2:, :] = images[:, :, :, :2] = images[:, :, :, -2:] = -0.5  # background
    first = training.shift_and_flip(images, max_shift=2, generator=torch.Generator().manual_seed(3))
    again = training.shift_and_flip(images, max_shift=2, generator=torch.Generator().manual_seed(3))
    assert first.shape == images.shape and torch.equal(first, again)
    assert not torch.equal(first, images)
    # a shift of at most the background's width moves the garment without cutting it: same pixels, mirrored or not
    for image, changed in zip(images, first):
        assert torch.equal(image.flatten().sort().values, changed.flatten().sort().values)
    # without a shift, each image comes back as it was or mirrored, about half of them mirrored
    unshifted = training.shift_and_flip(images, max_shift=0, generator=torch.Generator().manual_seed(3))
    same = unshifted.eq(images).all(dim=(1, 2, 3))
    mirrored = unshifted.eq(images.flip(-1)).all(dim=(1, 2, 3))
    assert torch.all(same | mirrored) and 16 < int(mirrored.sum()) < 48


def test_fit_one_cycle_learns_with_a_learning_rate_that_rises_then_falls(capsys):
    training.seed_everything(0)
    images, labels = _toy(512).tensors
    model = _model()
    history = training.fit_one_cycle(model, images, labels, epochs=3, max_lr=0.5, batch_size=64, augment=None)
    rates = np.array(history["lr"])
    peak = int(np.argmax(rates))
    assert len(rates) == 3 * 8 and 0 < peak < len(rates) - 1 and np.isclose(rates.max(), 0.5)
    assert rates[0] < 0.1 * rates.max() and rates[-1] < 0.01 * rates.max()
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert training.accuracy(model, images, labels) > 0.9
    assert capsys.readouterr().err == ""


def test_one_cycle_rises_to_the_peak_then_anneals_while_the_momentum_moves_the_other_way():
    progress = np.linspace(0, 1, 401)
    rates, momenta = map(np.array, zip(*(training.one_cycle(p, 0.4) for p in progress)))
    assert np.isclose(rates[0], 0.4 / 25) and np.isclose(rates[100], 0.4) and np.isclose(rates[-1], 0.4 / 25e4)
    assert np.all(np.diff(rates[:101]) > 0) and np.all(np.diff(rates[100:]) < 0)
    assert np.isclose(momenta[0], 0.95) and np.isclose(momenta[100], 0.85) and np.isclose(momenta[-1], 0.95)
    assert np.all(np.diff(momenta[:101]) < 0) and np.all(np.diff(momenta[100:]) > 0)
    # half-way through each phase a cosine is half-way between its ends
    assert np.isclose(rates[50], (0.4 / 25 + 0.4) / 2) and np.isclose(momenta[50], 0.9)


def test_fit_one_cycle_on_a_time_budget_follows_the_clock_and_stops_when_time_is_up():
    training.seed_everything(0)
    images, labels = _toy(512).tensors
    model = _model()
    ticks = iter(range(10_000))
    history = training.fit_one_cycle(model, images, labels, max_lr=0.5, seconds=60, batch_size=64,
                                     clock=lambda: 0.5 * next(ticks))
    # the clock advances half a second at each reading: one at the start, one before each step, so step k
    # begins (k + 1) / 120 of the way through the minute and the 120th reading ends the run after 119 steps,
    # fourteen passes over the eight batches and part of a fifteenth, whatever the real time taken
    assert history["steps"] == 119 and len(history["lr"]) == 119 and len(history["train_loss"]) == 15
    assert np.allclose(history["lr"], [training.one_cycle((step + 1) / 120, 0.5)[0] for step in range(119)])
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert training.accuracy(model, images, labels) > 0.9


def test_fit_one_cycle_needs_exactly_one_of_epochs_and_seconds():
    model = _model()
    images, labels = _toy(64).tensors
    for options in ({}, {"epochs": 1, "seconds": 10}):
        with pytest.raises(ValueError, match="exactly one of epochs= .* or seconds="):
            training.fit_one_cycle(model, images, labels, max_lr=0.1, **options)


def test_activation_stats_records_each_relu_in_training_batches_only():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU())
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.copy_(torch.eye(2))
            layer.bias.zero_()
    x = torch.tensor([[1.0, -1.0], [0.005, 2.0]])
    with training.ActivationStats(model) as stats:
        model.train()
        model(x)
        model.eval()
        model(x)
    model.train()
    model(x)
    assert stats.layers == ["ReLU 1 (1)", "ReLU 2 (3)"]
    values = torch.tensor([1.0, 0.0, 0.005, 2.0])
    for layer in stats.layers:
        assert len(stats.records[layer]) == 1, "one training batch while hooked, evaluation left out"
        mean, std, near_zero = stats.records[layer][0]
        assert abs(mean - values.mean().item()) < 1e-6 and abs(std - values.std().item()) < 1e-6
        assert near_zero == 0.5
    assert stats.summary()["ReLU 1 (1)"] == pytest.approx(stats.records["ReLU 1 (1)"][0])
    plots.plot_activation_stats({"toy": stats, "again": stats}, title="demo")
    assert len(plt.gcf().axes) == 6 and plt.gcf().axes[2].get_ylim() == (0, 1)
    plt.close("all")
