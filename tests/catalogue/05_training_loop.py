"""Typical wrong answers for 05_training_loop; each must lose its exercise's points and only those.

Written by the notebook's builder from the solution cells, one small edit each. Every entry: a
name, the solution cell (`cell`) it replaces, the code a student might type, and `demo: True`
for the ones carol's demo submission makes. The train mistakes all run and most of them pass
the visible checks: only the hidden comparison with a reference loop catches them.
"""

WRONG = [
    {"name": "accuracy: number correct instead of the fraction", "cell": "accuracy", "demo": True,
     "code": '''\
def accuracy(logits, labels):
    """Fraction of rows whose largest logit sits at the true label, as a plain Python float."""
    predictions = logits.argmax(dim=1)
    return (predictions == labels).sum().item()
'''},
    {"name": "accuracy: arg-max over the batch dimension", "cell": "accuracy",
     "code": '''\
def accuracy(logits, labels):
    """Fraction of rows whose largest logit sits at the true label, as a plain Python float."""
    predictions = logits.argmax(dim=0)
    return (predictions == labels).float().mean().item()
'''},
    {"name": "accuracy: arg-min instead of arg-max", "cell": "accuracy",
     "code": '''\
def accuracy(logits, labels):
    """Fraction of rows whose largest logit sits at the true label, as a plain Python float."""
    predictions = logits.argmin(dim=1)
    return (predictions == labels).float().mean().item()
'''},
    {"name": "evaluate: forgets model.eval()", "cell": "evaluate",
     "code": '''\
def evaluate(model, loader, criterion):
    """Mean loss over the batches of `loader` and accuracy, measured without training anything."""
    on = next(model.parameters()).device
    losses, correct, seen = [], 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(on), labels.to(on)
            logits = model(images)
            losses.append(criterion(logits, labels).item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    return sum(losses) / len(losses), correct / seen
'''},
    {"name": "evaluate: loss averaged over images, not batches", "cell": "evaluate",
     "code": '''\
def evaluate(model, loader, criterion):
    """Mean loss over the batches of `loader` and accuracy, measured without training anything."""
    on = next(model.parameters()).device
    model.eval()
    losses, correct, seen = [], 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(on), labels.to(on)
            logits = model(images)
            losses.append(criterion(logits, labels).item() * len(labels))
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    return sum(losses) / seen, correct / seen
'''},
    {"name": "evaluate: records gradients (no torch.no_grad)", "cell": "evaluate",
     "code": '''\
def evaluate(model, loader, criterion):
    """Mean loss over the batches of `loader` and accuracy, measured without training anything."""
    on = next(model.parameters()).device
    model.eval()
    losses, correct, seen = [], 0, 0
    if True:
        for images, labels in loader:
            images, labels = images.to(on), labels.to(on)
            logits = model(images)
            losses.append(criterion(logits, labels).item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    return sum(losses) / len(losses), correct / seen
'''},
    {"name": "train: never zeroes the gradients", "cell": "train", "demo": True,
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: zero_grad between backward and step", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: step before backward", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            optimizer.step()
            loss.backward()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: validation in train mode", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: validation with gradients", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        if True:
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: model.train() only once, before the first epoch", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    model.train()
    for epoch in range(1, epochs + 1):
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: training loss averaged over images, not batches", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item() * len(labels))
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / seen)
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
    {"name": "train: momentum left out of the default optimizer", "cell": "train",
     "code": '''\
def train(model, device, train_loader, validation_loader, epochs, optimizer=None):
    """Train `model` for `epochs` epochs; return its learning curves, one value per epoch each."""
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = training.progress(train_loader, f"epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{sum(losses) / len(losses):.4f}")
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / seen)

        model.eval()
        val_losses, val_correct, val_seen = [], 0, 0
        with torch.no_grad():
            for images, labels in validation_loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_losses.append(criterion(logits, labels).item())
                val_correct += (logits.argmax(dim=1) == labels).sum().item()
                val_seen += len(labels)
        history["val_loss"].append(sum(val_losses) / len(val_losses))
        history["val_acc"].append(val_correct / val_seen)
        print(f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}, accuracy {history['train_acc'][-1]:.3f}"
              f" | validation loss {history['val_loss'][-1]:.4f}, accuracy {history['val_acc'][-1]:.3f}")
    return history
'''},
]
