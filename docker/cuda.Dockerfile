# lit_digits on NVIDIA GPUs: PyTorch's default Linux wheels carry CUDA; the host needs the
# NVIDIA driver and container toolkit.
#   docker build -f docker/cuda.Dockerfile -t lit_digits:cuda .
#   docker run --gpus all --shm-size=8G -v "$HOME/data:/data" lit_digits:cuda \
#     fit --config configs/cifar.yaml --trainer.accelerator gpu --trainer.precision bf16-mixed --data.data_dir /data --trainer.default_root_dir /data/runs
FROM python:3.11-slim

WORKDIR /opt/lit_digits
COPY setup.cfg pyproject.toml README.md ./
COPY lit_digits ./lit_digits
COPY configs ./configs
RUN pip install --no-cache-dir "torch==2.9.0" "torchvision==0.24.0" \
    && pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 trainer \
    && mkdir /data && chown trainer /data

USER 1000
VOLUME ["/data"]
ENTRYPOINT ["lit_digits"]
CMD ["--help"]
