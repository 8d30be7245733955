"""``lit_digits serve`` as a client sees it: ``python -m lit_digits serve RUN`` on a free 127.0.0.1 port,
real HTTP requests (httpx), the answers checked against ``lit_digits predict`` on the same files."""

import asyncio
import base64
import configparser
import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from helpers.cli import CONFIGS, assert_one_line_error
from helpers.servers import Server, free_port, start_server, stop
from packaging.requirements import Requirement
from PIL import Image

from lit_digits import ImageClassifier, ImageDataModule
from lit_digits.cli.serve_command import SERVE_MODULES
from lit_digits.data.image_files import ImageFiles
from lit_digits.serve.server import serving_threads


@pytest.fixture(scope="module")
def server(fitted_run, tmp_path_factory) -> Iterator[Server]:
    """``fitted_run`` served with batches of up to 8 requests, each batch waiting up to 0.1 s to fill."""
    running = start_server(fitted_run, free_port(), tmp_path_factory.mktemp("server"), "--max_batch_size", "8",
                           "--batch_timeout", "0.1")  # fmt: skip
    yield running
    stop(running)


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def digit_files(folder: Path) -> list[Path]:
    """Image files of every kind ``predict`` converts: 8-bit and 16-bit grey, RGB, RGBA, palette,
    another size, PNG and JPEG; in ``folder``."""
    rng = np.random.default_rng(1)
    grey = [Image.fromarray(rng.integers(0, 60, (28, 28), dtype=np.uint8) + 20 * label) for label in range(10)]
    images = {
        **{f"grey_{label}.png": image for label, image in enumerate(grey)},
        "sixteen_bit.png": Image.fromarray(np.asarray(grey[7], dtype=np.uint16) * 257),
        "rgb.jpg": grey[3].convert("RGB"),
        "rgba.png": grey[5].convert("RGBA"),
        "palette.png": grey[8].convert("P"),
        "larger.png": grey[2].resize((56, 40)),
    }
    folder.mkdir()
    for name, image in images.items():
        image.save(folder / name, **({"quality": 95} if name.endswith(".jpg") else {}))
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> list[Path]:
    return digit_files(tmp_path_factory.mktemp("digits") / "images")


@pytest.fixture(scope="module")
def expected(fitted_run, digits) -> dict[str, list[float]]:
    """Each file's class probabilities, by the loader and the reading that ``predict`` uses."""
    checkpoint = fitted_run / "checkpoints" / "best.ckpt"
    model = ImageClassifier.load_from_checkpoint(checkpoint, map_location="cpu").eval()
    reader = ImageDataModule.load_from_checkpoint(checkpoint).image_reader
    files = ImageFiles.load(str(digits[0].parent), reader)
    with torch.inference_mode():
        probabilities = model(files.images.float() / 255).softmax(dim=-1)
    return {path.name: p.tolist() for path, p in zip(files.paths, probabilities)}


def as_form(path: Path) -> dict:
    return {"files": {"image": (path.name, path.read_bytes())}}


def as_json(path: Path) -> dict:
    return {"json": {"image": base64.b64encode(path.read_bytes()).decode()}}


def assert_answer(response: httpx.Response, probabilities: list[float]) -> None:
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["class"] == int(np.argmax(probabilities)) and answer["name"] == str(answer["class"])
    assert np.allclose(answer["probabilities"], probabilities, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_each_image_as_a_form_file_or_base64_json_is_classified_as_predict_does(
    server, digits, expected, fitted_run, in_process
):
    predicted = in_process.run_cli("predict", "--config", str(CONFIGS / "mnist.yaml"), "--ckpt_path",
                                   str(fitted_run / "checkpoints" / "best.ckpt"), "--data.predict_path",
                                   str(digits[0].parent), cwd=digits[0].parent.parent)  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    printed = {
        Path(path).name: (name, float(p))
        for path, name, p in (line.split("\t") for line in predicted.stdout.splitlines())
    }
    assert sorted(printed) == [path.name for path in digits]
    for path in digits:
        for body in (as_form(path), as_json(path)):
            response = httpx.post(f"{server.url}/predict", **body, timeout=30)
            assert_answer(response, expected[path.name])
            name, probability = printed[path.name]
            assert response.json()["name"] == name
            assert abs(max(response.json()["probabilities"]) - probability) <= 5e-5 + 1e-6  # printed to 4 places


JSON_TYPE = {"Content-Type": "application/json"}
NOISE_PNG = encoded(Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)), "PNG")
TRUNCATED_PNG = NOISE_PNG[: len(NOISE_PNG) // 2]


def decompression_bomb() -> bytes:
    """A 10,000 x 10,000 PNG of 12 kB: past Pillow's pixel limit, which warns, short of twice it, where it refuses."""
    return encoded(Image.new("1", (10_000, 10_000)), "PNG")


BAD_REQUESTS = {
    "a text file": (400, "not an image file", lambda: {"files": {"image": ("notes.txt", b"hello, server")}}),
    "a truncated PNG": (400, "not a readable image file", lambda: {"files": {"image": ("cut.png", TRUNCATED_PNG)}}),
    "bad base64": (400, "not base64", lambda: {"json": {"image": "not base64!"}}),
    "no image field": (400, "no image in the request", lambda: {"json": {"picture": "aGVsbG8="}}),
    "a form text field": (400, "no image in the request", lambda: {"files": {"image": (None, "hello")}}),
    "JSON that does not parse": (400, "not JSON", lambda: {"content": b'{"image": ', "headers": JSON_TYPE}),
    "a JSON list": (400, "no image in the request", lambda: {"json": ["aGVsbG8="]}),
    "text/plain": (415, "Content-Type text/plain", lambda: {"content": b"hi", "headers": {"Content-Type": "text/plain"}}),
    "no content type": (415, "Content-Type (none)", lambda: {"content": b"hello"}),
    "a file over 10 MiB": (413, "larger than 10 MiB", lambda: {"files": {"image": ("big.png", bytes(10 * 2**20 + 1))}}),
    "a body over the limit": (413, "request body is larger", lambda: {"files": {"image": ("huge.png", bytes(16 * 2**20))}}),
    "a decompression bomb": (413, "too many pixels", lambda: {"files": {"image": ("bomb.png", decompression_bomb())}}),
}  # fmt: skip
"""Each bad request: the status and a part of the reason it gets, and (made when needed) its httpx arguments."""


@pytest.mark.slow
@pytest.mark.parametrize("bad", BAD_REQUESTS)
def test_a_bad_request_gets_a_4xx_with_a_one_line_reason_and_the_server_goes_on(bad, server, digits, expected):
    status, reason, body = BAD_REQUESTS[bad]
    response = httpx.post(f"{server.url}/predict", **body(), timeout=60)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert reason in error and "\n" not in error and list(response.json()) == ["error"]
    assert_answer(httpx.post(f"{server.url}/predict", **as_form(digits[0]), timeout=30), expected[digits[0].name])


async def post_together(url: str, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(url, **body) for body in bodies))


@pytest.mark.slow
def test_eight_requests_at_once_share_a_batch_and_a_bad_one_fails_alone(server, digits, expected):
    files = [digits[i % len(digits)] for i in range(8)]
    bodies = [as_form(path) if i % 2 else as_json(path) for i, path in enumerate(files)]
    bodies[3] = BAD_REQUESTS["a text file"][2]()
    responses = asyncio.run(post_together(f"{server.url}/predict", bodies))
    assert responses[3].status_code == 400 and "not an image file" in responses[3].json()["error"]
    for i, (path, response) in enumerate(zip(files, responses)):
        if i != 3:
            assert_answer(response, expected[path.name])


@pytest.mark.slow
def test_the_model_and_the_address_are_printed_alone_and_litserve_writes_no_client_file(server, fitted_run):
    out, err = server.output()
    loaded, serving = out.splitlines()
    assert loaded.startswith(f"Loaded {fitted_run / 'checkpoints' / 'best.ckpt'} on cpu (")
    assert serving == f"Serving at {server.url}/predict (Ctrl-C stops)"
    assert err == ""
    assert not (server.folder / "client.py").exists()


@pytest.mark.slow
def test_without_batching_it_answers_alike_and_sigterm_stops_it_and_its_workers_quietly(
    fitted_run, digits, expected, tmp_path
):
    port = free_port()
    running = start_server(fitted_run, port, tmp_path, "--max_batch_size", "1")
    try:
        assert_answer(httpx.post(f"{running.url}/predict", **as_json(digits[1]), timeout=30), expected[digits[1].name])
        refused = httpx.post(f"{running.url}/predict", **BAD_REQUESTS["a truncated PNG"][2](), timeout=30)
        assert refused.status_code == 400 and "not a readable image file" in refused.json()["error"]
    finally:
        assert stop(running) == 0
    assert running.output()[1] == ""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # nothing of the server's holds the port any more


@pytest.mark.slow
def test_a_port_in_use_is_one_line_at_start(server, fitted_run, tmp_path, in_process):
    result = in_process.run_cli("serve", str(fitted_run), "--port", server.url.rpartition(":")[2], cwd=tmp_path)
    assert_one_line_error(result, "cannot listen on 127.0.0.1 port", "Address already in use", "pick another --port")


def test_a_folder_without_a_checkpoint_is_one_line(tmp_path, in_process):
    assert_one_line_error(
        in_process.run_cli("serve", str(tmp_path), cwd=tmp_path), "neither a checkpoint nor a run folder"
    )


def test_the_serve_extra_installs_what_serve_and_demo_check_for():
    setup = configparser.ConfigParser(inline_comment_prefixes=("#",))
    setup.read(CONFIGS.parent / "setup.cfg")
    serve_extra = {Requirement(line).name.lower() for line in setup["options.extras_require"]["serve"].split()}
    assert {name.lower() for name in SERVE_MODULES} <= serve_extra


@pytest.mark.parametrize("command", ["serve", "demo"])
@pytest.mark.parametrize(("module", "missing"), [("litserve", "LitServe"), ("python_multipart", "python-multipart")])
def test_without_the_serve_extra_the_command_says_what_to_install(command, module, missing, tmp_path, in_process,
                                                                   monkeypatch):  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    result = in_process.run_cli(command, str(tmp_path), cwd=tmp_path)
    assert_one_line_error(result, f"needs {missing}:", 'pip install -e ".[serve]"', 'pip install "lit_digits[serve]"')


@pytest.mark.parametrize(
    ("cores", "omp_num_threads", "threads"), [(2, None, 1), (3, None, 1), (16, None, 14), (16, "16", 16)]
)
def test_the_model_leaves_two_cores_to_litserve_unless_omp_num_threads_says(
    cores, omp_num_threads, threads, monkeypatch
):
    monkeypatch.setattr(torch, "get_num_threads", lambda: cores)  # what torch made of the cores and OMP_NUM_THREADS
    if omp_num_threads is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp_num_threads)
    assert serving_threads() == threads
