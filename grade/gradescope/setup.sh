#!/bin/sh
# setup.sh: Gradescope runs this once, as root, when it builds the
# autograder's image; the zip (make gradescope LAB=...) is unpacked in
# /autograder/source. It installs what canopy needs with
# scripts/install-deps.sh (the same Debian/Ubuntu packages as make deps
# and the Dockerfile) and builds the reference tree once, so that each
# submission recompiles only the files the student changed.
#
# canopy needs QEMU 7.2 or newer: choose Gradescope's Ubuntu 24.04 base
# image (22.04's QEMU 6.2 is too old; install-deps.sh stops with a message
# saying so). See docs/instructors.md.
set -e
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q make patch build-essential python3
sh scripts/install-deps.sh
make -s all
chmod +x run_autograder
echo "canopy autograder for lab @LAB@ is ready"
