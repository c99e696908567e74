# Dockerfile: a Debian 12 container with everything canopy needs, for
# students on macOS or Windows (or any Linux) who would rather not install
# the toolchain: `make docker-shell` builds this image and opens a shell in
# it on this tree (docs/setup.md).
#
# The packages are scripts/install-deps.sh's DEBIAN_PACKAGES, plus a host
# compiler and make (tests/host/test_dockerfile.sh checks that the two
# lists agree), and install-deps.sh runs at the end to prove the image has
# everything, QEMU >= 7.2 included (Debian 12 has 7.2).
FROM debian:bookworm

RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      gcc-riscv64-unknown-elf qemu-system-misc opensbi gdb-multiarch python3 \
      build-essential make patch git ca-certificates && \
    rm -rf /var/lib/apt/lists/*

COPY scripts/install-deps.sh /usr/local/lib/canopy/install-deps.sh
RUN sh /usr/local/lib/canopy/install-deps.sh && \
    qemu-system-riscv64 --version | head -n 1

# make docker-shell mounts the tree here and runs as the caller's uid,
# so files built inside belong to the student outside.
ENV HOME=/tmp
WORKDIR /canopy
CMD ["bash"]
