"""Correct but unusual answers for 05_training_loop; each must keep full marks.

Written as small edits of the solution cell (`cell`), like the mistakes in mistakes.py, so they follow
the solution when it changes. The pipeline tests grade the first answer of every exercise as one
student, the second as another, and so on.
"""
from course.grading.semester.submissions import solution_edits

SOLUTIONS, fair = solution_edits(__file__)


ZERO_GRAD = "            optimizer.zero_grad()\n"

FAIR = [
    fair("sum over count", "accuracy",
         ("return (predictions == labels).float().mean().item()",
          "return float((predictions == labels).sum()) / len(labels)")),
    fair("in numpy (a numpy float)", "accuracy",
         ("    predictions = logits.argmax(dim=1)\n    return (predictions == labels).float().mean().item()",
          "    predictions = logits.detach().cpu().numpy().argmax(axis=1)\n"
          "    return np.mean(predictions == labels.cpu().numpy())")),
    fair("torch.max indices, a warning for an empty batch", "accuracy",
         ("def accuracy(", "import warnings\n\n\ndef accuracy("),
         ("    predictions = logits.argmax(dim=1)\n",
          "    if len(labels) == 0:\n        warnings.warn(\"empty batch\")\n        return 0.0\n"
          "    _, predictions = torch.max(logits, 1)\n"),
         (".float().mean().item()", ".double().mean().item()")),

    fair("inference_mode, running sums", "evaluate",
         ("with torch.no_grad():", "with torch.inference_mode():"),
         ("losses, correct, seen = [], 0, 0", "total, batches, correct, seen = 0.0, 0, 0, 0"),
         ("losses.append(criterion(logits, labels).item())", "total += float(criterion(logits, labels))\n"
                                                             "            batches += 1"),
         ("return sum(losses) / len(losses), correct / seen", "return total / batches, correct / seen")),
    fair("a tqdm bar on stderr, a numpy mean", "evaluate",
         ("def evaluate(", "import sys\n\nfrom tqdm import tqdm\n\n\ndef evaluate("),
         ("for images, labels in loader:", "for images, labels in tqdm(loader, file=sys.stderr, leave=False):"),
         ("return sum(losses) / len(losses), correct / seen", "return float(np.mean(losses)), correct / seen")),
    fair("a helper per batch, a warning and a print on stderr", "evaluate",
         ("def evaluate(", "import sys\nimport warnings\n\n\ndef _batch(model, images, labels, criterion):\n"
                           "    logits = model(images)\n"
                           "    return criterion(logits, labels).item(), (logits.argmax(1) == labels).sum().item()\n\n\n"
                           "def evaluate("),
         ("    model.eval()\n", "    if model.training:\n        warnings.warn(\"evaluate switches the model to eval mode\")\n"
                             "    model.eval()\n"),
         ("            logits = model(images)\n            losses.append(criterion(logits, labels).item())\n"
          "            correct += (logits.argmax(dim=1) == labels).sum().item()\n",
          "            loss, right = _batch(model, images, labels, criterion)\n            losses.append(loss)\n"
          "            correct += right\n"),
         ("    return sum(losses)", "    print(f\"evaluated {seen} images\", file=sys.stderr)\n    return sum(losses)")),

    fair("a tqdm bar on stderr and epoch lines on stderr", "train",
         ("def train(", "import sys\n\nfrom tqdm import tqdm\n\n\ndef train("),
         ('bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")',
          'bar = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", file=sys.stderr)'),
         ("        print(f\"epoch {epoch}:", "        print(file=sys.stderr)\n        print(f\"epoch {epoch}:")),
    fair("model.zero_grad(set_to_none=False), numpy means", "train",
         (ZERO_GRAD, "            model.zero_grad(set_to_none=False)\n"),
         ('history["train_loss"].append(sum(losses) / len(losses))',
          'history["train_loss"].append(float(np.mean(losses)))'),
         ('history["val_loss"].append(sum(val_losses) / len(val_losses))',
          'history["val_loss"].append(np.mean(val_losses))')),
    fair("keyword arguments, a validation helper, a warning", "train",
         ("def train(", "import warnings\n\n\ndef _validate(model, loader, criterion, device):\n"
                        "    model.eval()\n    losses, correct, seen = [], 0, 0\n    with torch.no_grad():\n"
                        "        for images, labels in loader:\n"
                        "            images, labels = images.to(device), labels.to(device)\n"
                        "            logits = model(images)\n"
                        "            losses.append(criterion(logits, labels).item())\n"
                        "            correct += (logits.argmax(dim=1) == labels).sum().item()\n"
                        "            seen += len(labels)\n"
                        "    return sum(losses) / len(losses), correct / seen\n\n\ndef train("),
         ("torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)",
          "torch.optim.SGD(params=model.parameters(), momentum=0.9, lr=1e-2)\n"
          "        warnings.warn(\"no optimizer given: SGD with momentum\")"),
         ("        model.eval()\n        val_losses, val_correct, val_seen = [], 0, 0\n        with torch.no_grad():\n"
          "            for images, labels in validation_loader:\n"
          "                images, labels = images.to(device), labels.to(device)\n"
          "                logits = model(images)\n"
          "                val_losses.append(criterion(logits, labels).item())\n"
          "                val_correct += (logits.argmax(dim=1) == labels).sum().item()\n"
          "                val_seen += len(labels)\n"
          "        history[\"val_loss\"].append(sum(val_losses) / len(val_losses))\n"
          "        history[\"val_acc\"].append(val_correct / val_seen)\n",
          "        val_loss, val_acc = _validate(model, validation_loader, criterion, device)\n"
          "        history[\"val_loss\"].append(val_loss)\n        history[\"val_acc\"].append(val_acc)\n")),

    fair("in-place ReLUs, the sizes written as numbers", "LeNet5",
         ("nn.ReLU()", "nn.ReLU(inplace=True)"), ("16 * 5 * 5", "400")),
    fair("layers added to the Sequentials one by one, with names", "LeNet5",
         ("        self.features = nn.Sequential(\n            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),\n"
          "            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),\n        )\n",
          "        self.features = nn.Sequential()\n"
          "        for name, layer in [(\"conv1\", nn.Conv2d(1, 6, 5, padding=2)), (\"relu1\", nn.ReLU()), (\"pool1\", nn.MaxPool2d(2)),\n"
          "                            (\"conv2\", nn.Conv2d(6, 16, 5)), (\"relu2\", nn.ReLU()), (\"pool2\", nn.MaxPool2d(2, 2))]:\n"
          "            self.features.add_module(name, layer)\n")),
    fair("a printed summary on stderr, a warning for an unusual class count", "LeNet5",
         ("class LeNet5(", "import sys\nimport warnings\n\n\nclass LeNet5("),
         ("            nn.Linear(84, num_classes),\n        )\n",
          "            nn.Linear(84, num_classes),\n        )\n"
          "        print(\"LeNet-5 for\", num_classes, \"classes\", file=sys.stderr)\n"
          "        if num_classes != 10:\n            warnings.warn(\"not ten classes\")\n")),
]

