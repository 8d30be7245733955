# lit_digits on a Cloud TPU VM: torch-xla's own image (torch, torch-xla and libtpu, pinned
# to the versions of setup.cfg's `tpu` extra), the package installed from this repository.
#   docker build -f docker/tpu.Dockerfile -t lit_digits:tpu .
#   docker run --privileged --net host --shm-size=16G -v "$HOME/data:/data" lit_digits:tpu \
#     fit --config configs/cifar.yaml --trainer.accelerator tpu --trainer.devices 8 --data.data_dir /data --trainer.default_root_dir /data/runs
FROM us-central1-docker.pkg.dev/tpu-pytorch-releases/docker/xla:r2.9.0_3.10_tpuvm

WORKDIR /opt/lit_digits
COPY setup.cfg pyproject.toml README.md ./
COPY lit_digits ./lit_digits
COPY configs ./configs
RUN pip install --no-cache-dir "torch==2.9.0" "torchvision==0.24.0" "torch_xla[tpu]==2.9.0" \
    && pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 trainer \
    && mkdir /data && chown trainer /data

USER 1000
ENV PJRT_DEVICE=TPU
VOLUME ["/data"]
ENTRYPOINT ["lit_digits"]
CMD ["--help"]
