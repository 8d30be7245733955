"""How many MNIST test digits the demo page reads right when they are drawn into it with the mouse.

    python benchmarks/demo_digits.py RUN_DIR_OR_CHECKPOINT [--count 100] [--data_dir DIR] [--screenshot FILE]

Starts ``python -m lit_digits demo RUN`` on a free 127.0.0.1 port and opens its page in headless Chromium
(Debian's ``chromium``, driven by Playwright). The first ``--count`` digits of MNIST's test split, fixed,
not chosen, are each traced into strokes: every run of ink (grey level 128 or more) along a row of the
28 x 28 image becomes one horizontal stroke of the mouse across the page's 280 x 280 pad, with the pad's
pen (20 pixels wide: two of MNIST's). After the last stroke of a digit the page's answer is read from its
bars. Prints each miss and the count read right, beside the checkpoint's accuracy on the same digits as
MNIST stores them and as ``lit_digits predict`` would read them from files (``as_mnist_digit``), and on
the whole test split both ways. ``--screenshot`` saves the page showing the last digit drawn.
"""

import argparse
import shutil
from pathlib import Path

import torch
from environment import describe
from local_server import start_server, stop_server
from playwright.sync_api import Page, sync_playwright

from lit_digits.data import DEFAULT_DATA_DIR, MNISTDataModule
from lit_digits.data.mnist_digit import as_mnist_digit
from lit_digits.models import ImageClassifier
from lit_digits.runs.checkpoint_files import run_checkpoint

PAD, SIDE = 280, 28
"""The page's pad and MNIST's image, in pixels a side."""


def strokes(digit: torch.Tensor) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The runs of ink (>= 128) along each row of uint8 28 x 28 ``digit``, as strokes in pad pixels."""
    scale = PAD / SIDE
    lines = []
    for row in range(SIDE):
        ink = (digit[row] >= 128).tolist()
        col = 0
        while col < SIDE:
            if ink[col]:
                end = col
                while end + 1 < SIDE and ink[end + 1]:
                    end += 1
                y = (row + 0.5) * scale
                lines.append((((col + 0.5) * scale, y), ((end + 0.5) * scale, y)))
                col = end
            col += 1
    return lines


def draw(page: Page, digit: torch.Tensor) -> list[float] | None:
    """Clear the pad, draw ``digit``'s strokes with the mouse, and return the probabilities the page shows
    (None for a digit without ink to draw)."""
    page.click("#clear")
    lines = strokes(digit)
    if not lines:
        return None
    box = page.locator("#pad").bounding_box()
    page.evaluate("document.body.dataset.idle = 'false'")
    for (x0, y0), (x1, y1) in lines:
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        page.mouse.move(box["x"] + x1, box["y"] + y1, steps=max(1, round((x1 - x0) / 10)))
        page.mouse.up()
    page.wait_for_function("document.body.dataset.idle === 'true'", timeout=60_000)
    return [float(p) for p in page.locator("#bars").get_attribute("data-probabilities").strip("[]").split(",")]


def accuracy(model: ImageClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.inference_mode():
        predicted = torch.cat([model(batch.float() / 255).argmax(dim=1) for batch in images.split(1000)])
    return float((predicted == labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a run folder or a checkpoint file of an MNIST recipe")
    parser.add_argument("--count", type=int, default=100, help="the first this many test digits")
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="where MNIST is (else the copy lit_digits ships)")
    parser.add_argument("--screenshot", type=Path, help="save the page, with the last digit drawn, as this PNG")
    args = parser.parse_args()
    images, labels = MNISTDataModule(data_dir=args.data_dir).read_split(train=False)
    checkpoint, _ = run_checkpoint(args.run)
    model = ImageClassifier.load_from_checkpoint(checkpoint, map_location="cpu").eval()
    made = torch.stack([as_mnist_digit(image) for image in images])

    server, url = start_server("demo", str(args.run), "--no_browser")
    right, misses = 0, []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 900, "height": 620})
            page.goto(url)
            for index in range(args.count):
                probabilities, label = draw(page, images[index, 0]), int(labels[index])
                if probabilities is None:
                    misses.append(f"test digit {index}: a {label}, without ink to draw")
                    continue
                read = probabilities.index(max(probabilities))
                right += read == label
                if read != label:
                    misses.append(f"test digit {index}: a {label}, read as {read} ({max(probabilities):.1%})")
            if args.screenshot:
                page.screenshot(path=str(args.screenshot))
            browser.close()
    finally:
        stop_server(server)

    n = args.count
    print(f"# {describe()}")
    print(f"# checkpoint: {checkpoint}")
    print(*misses, sep="\n")
    print("| digits | read right |")
    print("| --- | --- |")
    print(f"| the first {n} test digits, drawn into the demo page with the mouse | **{right} / {n}** |")
    print(f"| the same {n}, as MNIST stores them | {accuracy(model, images[:n], labels[:n]) * n:.0f} / {n} |")
    print(f"| the same {n}, as predict reads them from files | {accuracy(model, made[:n], labels[:n]) * n:.0f} / {n} |")
    print(f"| the whole test split, as MNIST stores it | {accuracy(model, images, labels):.2%} |")
    print(f"| the whole test split, as predict reads it from files | {accuracy(model, made, labels):.2%} |")


if __name__ == "__main__":
    main()
