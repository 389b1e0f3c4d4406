# The slipstream task image: what the pods of `flow.to_airflow(mode="kubernetes")` run.
#
#   podman build -t slipstream .                      (or docker build)
#   podman build --build-arg BASE=localhost/debian:bookworm -t slipstream .
#
# The builder stage builds the wheel from the locked Cargo.lock with maturin; the runtime
# stage installs it, with the libraries of requirements/image.txt, into a slim image.
# BASE is the runtime's base image; BUILDER_BASE (default: BASE) the builder's.
ARG BASE=docker.io/library/debian:bookworm-slim
ARG BUILDER_BASE=${BASE}

FROM ${BUILDER_BASE} AS builder
ARG RUST_VERSION=1.95.0
# A Rust toolchain and registry mounted at these paths are used as they are (`make image`
# mounts the host's to build without downloads); otherwise rustup installs one.
ENV RUSTUP_HOME=/root/.rustup CARGO_HOME=/root/.cargo PATH=/root/.cargo/bin:$PATH
ARG CARGO_TARGET_DIR=/src/target
ENV CARGO_TARGET_DIR=${CARGO_TARGET_DIR}
ARG PIP_CERT=
RUN if ! command -v cc >/dev/null || ! command -v curl >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends \
            ca-certificates curl gcc libc6-dev python3 python3-venv && \
        rm -rf /var/lib/apt/lists/*; \
    fi
RUN command -v cargo >/dev/null || \
    curl --proto '=https' -sSf https://sh.rustup.rs | \
        sh -s -- -y --profile minimal --default-toolchain "${RUST_VERSION}" --no-modify-path
RUN python3 -m venv /opt/maturin && \
    /opt/maturin/bin/pip install --quiet ${PIP_CERT:+--cert "$PIP_CERT"} maturin==1.16.0
WORKDIR /src
COPY Cargo.toml Cargo.lock pyproject.toml README.md ./
COPY crates crates
COPY python python
RUN /opt/maturin/bin/maturin build --release --locked --out /wheels

FROM ${BASE}
ARG PIP_CERT=
RUN if ! command -v python3 >/dev/null || ! python3 -c "import ensurepip" 2>/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends \
            ca-certificates python3 python3-venv && \
        rm -rf /var/lib/apt/lists/*; \
    fi
COPY requirements/image.txt /tmp/image.txt
COPY --from=builder /wheels /wheels
RUN python3 -m venv /opt/slipstream && \
    /opt/slipstream/bin/pip install --quiet --no-cache-dir ${PIP_CERT:+--cert "$PIP_CERT"} \
        -r /tmp/image.txt /wheels/*.whl && \
    rm -rf /wheels /tmp/image.txt
ENV PATH=/opt/slipstream/bin:$PATH PYTHONUNBUFFERED=1
# Tasks need no privileges: run as an unprivileged user (store paths must be writable by it).
USER 65534:65534
CMD ["slipstream", "--help"]
