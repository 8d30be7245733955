"""``ClassifierAPI``: LitServe's ``LitAPI`` for a lit_digits checkpoint: an image file in, its class and
the class probabilities out."""

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from litserve import LitAPI
from PIL import Image, UnidentifiedImageError
from starlette.responses import JSONResponse, Response

from lit_digits.data.image_files import UNREADABLE, ImageReader, why_unreadable
from lit_digits.models import ImageClassifier
from lit_digits.serve.image_requests import Refusal, image_bytes

Decoded = torch.Tensor | Refusal
"""An image as uint8 C x H x W, or why the request has none."""


class ClassifierAPI(LitAPI):
    """The checkpoint's model, loaded by each inference worker (``setup``) through
    ``ImageClassifier.load_from_checkpoint``, in evaluation mode on the worker's device.

    A request's image is read as ``lit_digits predict`` reads files (the data module's ``image_reader``); a request
    without a readable one becomes a ``Refusal`` that travels through the batch as a value, so that
    a bad request fails alone, not the batch it came in. With ``max_batch_size`` above 1, LitServe
    gathers up to that many requests, waiting at most ``batch_timeout`` seconds, and ``predict``
    runs the model once on them.

    On the CPU, the model computes with ``cpu_threads`` threads (``serving_threads``).
    """

    def __init__(
        self,
        checkpoint: Path,
        classes: Sequence[str],
        reader: ImageReader,
        trusted_modules: Sequence[str] = (),
        max_batch_size: int = 1,
        batch_timeout: float = 0.0,
        cpu_threads: int = 1,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, batch_timeout=batch_timeout)
        self.checkpoint = checkpoint
        self.classes = tuple(classes)
        self.reader = reader
        self.trusted_modules = tuple(trusted_modules)
        self.cpu_threads = cpu_threads

    def setup(self, device: str) -> None:
        """Load the model on ``device`` (with ``cpu_threads`` threads on the CPU) and say so in one line."""
        # Pillow only warns between its pixel limit and twice that: a server refuses those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        model = ImageClassifier.load_from_checkpoint(
            self.checkpoint, map_location=device, trusted_modules=self.trusted_modules
        )
        self.model = model.eval()
        if device == "cpu":
            torch.set_num_threads(self.cpu_threads)
        threads = f" ({self.cpu_threads} thread{'s' * (self.cpu_threads > 1)}; OMP_NUM_THREADS sets them)"
        print(f"Loaded {self.checkpoint} on {device}{threads if device == 'cpu' else ''}", flush=True)

    def decode_request(self, request, **kwargs: Any) -> Decoded:
        """The request's image, or its ``Refusal``. (``request`` is unannotated: LitServe would take
        an annotation for the type FastAPI should parse the body as.)"""
        try:
            return self.reader(image_bytes(request))
        except Refusal as refusal:
            return refusal
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            return Refusal(413, f"the image has too many pixels ({err})")
        except UnidentifiedImageError:
            return Refusal(400, "not an image file (PNG, JPEG, GIF, WebP, BMP, TIFF, ...)")
        except UNREADABLE as err:
            return Refusal(400, f"not a readable image file ({why_unreadable(err)})")

    def batch(self, inputs: list[Decoded]) -> list[Decoded]:
        return list(inputs)  # stacked by predict, without the refusals

    @torch.inference_mode()
    def predict(self, x: Decoded | list[Decoded], **kwargs: Any) -> torch.Tensor | Refusal | list:
        """Class probabilities of each image of a batch (a list; one item without batching), from one
        run of the model on them all; a ``Refusal`` stays in its place."""
        inputs = x if isinstance(x, list) else [x]
        images = [item for item in inputs if isinstance(item, torch.Tensor)]
        if images:
            batch = torch.stack(images).to(self.model.device).float() / 255
            probabilities = iter(self.model(batch).float().softmax(dim=-1).cpu())
        outputs = [next(probabilities) if isinstance(item, torch.Tensor) else item for item in inputs]
        return outputs if isinstance(x, list) else outputs[0]

    def encode_response(self, output: torch.Tensor | Refusal, **kwargs: Any) -> Response:
        """``{"class": index, "name": class name, "probabilities": [...]}``, or ``{"error": reason}``
        with the refusal's status."""
        if isinstance(output, Refusal):
            return output.response()
        index = int(output.argmax())
        return JSONResponse({"class": index, "name": self.classes[index], "probabilities": output.tolist()})
