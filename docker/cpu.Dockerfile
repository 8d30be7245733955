# lit_digits on CPUs only: PyTorch's CPU wheels, no CUDA libraries.
#   docker build -f docker/cpu.Dockerfile -t lit_digits:cpu .
#   docker run --shm-size=4G -v "$HOME/data:/data" lit_digits:cpu \
#     fit --config configs/mnist.yaml --trainer.accelerator cpu --data.data_dir /data --trainer.default_root_dir /data/runs
FROM python:3.11-slim

WORKDIR /opt/lit_digits
COPY setup.cfg pyproject.toml README.md ./
COPY lit_digits ./lit_digits
COPY configs ./configs
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu "torch==2.9.0" "torchvision==0.24.0" \
    && pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 trainer \
    && mkdir /data && chown trainer /data

USER 1000
VOLUME ["/data"]
ENTRYPOINT ["lit_digits"]
CMD ["--help"]
