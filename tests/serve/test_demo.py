"""``lit_digits demo``: its page in a real browser (Debian's Chromium, driven by Playwright) shows the class
probabilities that ``predict`` gives for the same image, and bad input is a message on the page."""

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.browser import CHROMIUM, require_chromium
from helpers.cli import CONFIGS, assert_one_line_error
from helpers.servers import Server, free_port, start_server, stop
from helpers.tiny_data import CIFAR_PER_BATCH
from PIL import Image

from lit_digits.data import CIFAR10DataModule, MNISTDataModule
from lit_digits.serve.demo import EXAMPLES, has_display, page


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Chromium, driven by Playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])  # root: no sandbox
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def demo(fitted_run, tmp_path_factory) -> Iterator[Server]:
    running = start_server(fitted_run, free_port(), tmp_path_factory.mktemp("demo"), "--no_browser", command="demo")
    yield running
    assert stop(running) == 0, running.output()  # SIGTERM stops it and its workers quietly
    out, err = running.output()
    assert f"Demo at {running.url}/ (Ctrl-C stops)\n" in out and "Traceback" not in err


@pytest.fixture
def tab(browser, demo):
    """The demo page, loaded, in a new tab; the page's own errors fail the test."""
    errors = []
    page_ = browser.new_page()
    page_.on("pageerror", lambda error: errors.append(error))
    page_.goto(demo.url)
    yield page_
    page_.close()
    assert not errors, errors


def draw(tab, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw ``strokes`` (points in 0..1 of the pad's side) with the mouse; wait for the answer to the last."""
    box = tab.locator("#pad").bounding_box()
    tab.evaluate("document.body.dataset.idle = 'false'")
    for stroke in strokes:
        (x, y), *rest = stroke
        tab.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        tab.mouse.down()
        for x, y in rest:
            tab.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        tab.mouse.up()
    settled(tab)


def settled(tab) -> None:
    tab.wait_for_function("document.body.dataset.idle === 'true'", timeout=30_000)


def shown(tab) -> list[float]:
    """The probabilities the page shows (each bar's, in full)."""
    return [float(p) for p in tab.locator("#bars").get_attribute("data-probabilities").strip("[]").split(",")]


def predicted(fitted_run, image: Path, in_process) -> tuple[str, float]:
    """``lit_digits predict``'s class and probability for ``image``, with ``fitted_run``'s best checkpoint."""
    result = in_process.run_cli("predict", "--config", str(CONFIGS / "mnist.yaml"), "--ckpt_path", "best",
                                "--data.predict_path", str(image), cwd=fitted_run.parents[2])  # fmt: skip
    assert result.returncode == 0, result.stderr
    _, label, probability = result.stdout.strip().split("\t")
    return label, float(probability)


@pytest.mark.slow
def test_a_digit_drawn_on_the_page_shows_what_predict_gives_for_the_same_image(tab, fitted_run, tmp_path, in_process):
    draw(tab, [[(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]])
    first = shown(tab)
    draw(tab, [[(0.35, 0.5), (0.65, 0.5)]])  # a second stroke: the bars follow the drawing
    probabilities = shown(tab)
    assert probabilities != first and sum(probabilities) == pytest.approx(1, abs=1e-4)
    drawing = tab.evaluate("document.getElementById('pad').toDataURL('image/png')")
    (tmp_path / "drawn.png").write_bytes(base64.b64decode(drawing.split(",", 1)[1]))
    label, probability = predicted(fitted_run, tmp_path / "drawn.png", in_process)
    top = max(probabilities)
    assert (str(probabilities.index(top)), round(top, 4)) == (label, round(probability, 4))
    assert tab.locator("#bars li.top .name").text_content() == label
    assert tab.locator("#message").text_content().startswith(f"Read as {label} (")


@pytest.mark.slow
def test_a_picked_file_shows_what_predict_gives_and_an_example_can_be_clicked(tab, fitted_run, tmp_path, in_process):
    Image.new("L", (90, 60), 230).save(tmp_path / "paper.png")  # a blank page: no digit, read as black
    tab.evaluate("document.body.dataset.idle = 'false'")
    tab.set_input_files("#files", str(tmp_path / "paper.png"))
    settled(tab)
    label, probability = predicted(fitted_run, tmp_path / "paper.png", in_process)
    assert round(max(shown(tab)), 4) == round(probability, 4) and str(shown(tab).index(max(shown(tab)))) == label
    examples = tab.locator("#examples img")
    assert examples.count() == EXAMPLES  # the tiny test split of the run's data_dir holds more
    tab.evaluate("document.body.dataset.idle = 'false'")
    examples.nth(3).click()
    settled(tab)
    label = examples.nth(3).get_attribute("alt").removeprefix("test image: ")
    assert tab.locator("#message").text_content().endswith(f"; the test set says {label}")


@pytest.mark.slow
def test_a_file_that_is_not_an_image_is_a_message_and_the_page_goes_on(tab, tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    tab.evaluate("document.body.dataset.idle = 'false'")
    tab.set_input_files("#files", str(tmp_path / "notes.png"))
    settled(tab)
    assert tab.locator("#message").text_content().startswith("not an image file")
    assert "error" in tab.locator("#message").get_attribute("class")
    tab.click("#clear")
    assert tab.locator("#message").text_content() == "Draw a digit."  # an empty pad is not sent
    draw(tab, [[(0.5, 0.2), (0.5, 0.8)]])
    assert tab.locator("#message").text_content().startswith("Read as ")


@pytest.mark.slow
def test_a_huge_file_is_refused_on_the_page(tab, tmp_path):
    (tmp_path / "huge.png").write_bytes(b"\0" * (11 * 2**20))
    tab.set_input_files("#files", str(tmp_path / "huge.png"))
    tab.wait_for_function("document.getElementById('message').className === 'error'")
    assert "larger than 10 MiB" in tab.locator("#message").text_content()


def test_the_page_offers_the_pad_for_digits_and_test_images_where_the_data_set_is(
    mnist_dir, cifar_dir, tmp_path, capsys
):
    assert '"drawing": true' in page("run", MNISTDataModule(data_dir=str(mnist_dir)))
    cifar = page("runs/cifar/version_0", CIFAR10DataModule(data_dir=str(cifar_dir)))
    assert '"drawing": false' in cifar and cifar.count("data:image/png;base64,") == min(EXAMPLES, CIFAR_PER_BATCH)
    absent = page("run", CIFAR10DataModule(data_dir=str(tmp_path / "nowhere")))
    assert '"examples": []' in absent
    assert capsys.readouterr().out.startswith(f"No example images: the data set is not in {tmp_path / 'nowhere'}")


def test_a_title_cannot_end_the_script_that_holds_it(mnist_dir):
    html = page("</script><script>alert(1)</script>", MNISTDataModule(data_dir=str(mnist_dir)))
    assert html.count("</script>") == 2  # the page's own two


def test_the_browser_opens_only_where_there_is_a_display(monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    for variable in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(variable, raising=False)
    assert not has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert has_display()


@pytest.mark.slow
def test_a_folder_without_a_checkpoint_and_a_port_in_use_are_one_line(demo, fitted_run, tmp_path, in_process):
    missing = in_process.run_cli("demo", str(tmp_path), cwd=tmp_path)
    assert_one_line_error(missing, alone=True)
    in_use = in_process.run_cli("demo", str(fitted_run), "--port", demo.url.rsplit(":", 1)[1], cwd=tmp_path)
    assert_one_line_error(in_use, "cannot listen on 127.0.0.1 port")
