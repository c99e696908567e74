#!/bin/sh
# test_dockerfile.sh: is the Dockerfile the container docs/setup.md
# promises? No Docker engine is needed (make test runs where there is
# none): the checks read the files.
#   dockerfile_packages     every package of scripts/install-deps.sh's
#                           DEBIAN_PACKAGES is in the Dockerfile's apt-get
#                           install, plus build-essential (the host cc that
#                           install-deps.sh adds when none is installed)
#   dockerfile_debian_base  FROM a Debian release whose QEMU is >= 7.2
#                           (bookworm or newer)
#   dockerfile_names_known  on a Debian host, apt-cache knows every package
#                           the Dockerfile installs (skipped elsewhere)
#   dockerfile_runs_deps    the image runs install-deps.sh (the QEMU version
#                           check) and .dockerignore lets that file through
#   docker_shell_mounts     make -n docker-shell builds the image and runs it
#                           with this tree mounted, as the caller's uid
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
failed=0
ok()   { echo "test $1: OK"; }
fail() { echo "test $1: FAIL $2"; failed=1; }

deps=$(sed -n 's/^DEBIAN_PACKAGES="\(.*\)"$/\1/p' "$ROOT/scripts/install-deps.sh")
# The package words of the apt-get install command (continuation lines joined).
docker=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$ROOT/Dockerfile" |
  sed -n 's/.*apt-get install \(.*\)/\1/p' | sed 's/&&.*//' |
  tr ' ' '\n' | grep -v '^-' | grep -v '^$' | tr '\n' ' ')

missing=""
for p in $deps build-essential; do
  case " $docker " in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
  esac
done
if [ -z "$deps" ]; then
  fail dockerfile_packages "no DEBIAN_PACKAGES in scripts/install-deps.sh"
elif [ -n "$missing" ]; then
  fail dockerfile_packages "the Dockerfile does not install:$missing (it installs: $docker)"
else
  ok dockerfile_packages
fi

if grep -Eq '^FROM debian:(bookworm|trixie|12|13)([-.@ ]|$)' "$ROOT/Dockerfile"; then
  ok dockerfile_debian_base
else
  fail dockerfile_debian_base "$(grep '^FROM' "$ROOT/Dockerfile")"
fi

if grep -qs '^ID=debian' /etc/os-release && command -v apt-cache >/dev/null 2>&1; then
  unknown=""
  for p in $docker; do
    apt-cache show "$p" >/dev/null 2>&1 || unknown="$unknown $p"
  done
  if [ -n "$unknown" ]; then
    fail dockerfile_names_known "apt-cache does not know:$unknown"
  else
    ok dockerfile_names_known
  fi
else
  echo "# dockerfile_names_known skipped: not a Debian host"
fi

if grep -q 'install-deps.sh' "$ROOT/Dockerfile" &&
   grep -q '^RUN sh .*install-deps.sh' "$ROOT/Dockerfile" &&
   grep -qx '!scripts/install-deps.sh' "$ROOT/.dockerignore"; then
  ok dockerfile_runs_deps
else
  fail dockerfile_runs_deps "the Dockerfile must COPY and RUN scripts/install-deps.sh, and .dockerignore let it in"
fi

n=$(cd "$ROOT" && make -s -n docker-shell DOCKER=docker 2>&1)
if echo "$n" | grep -q 'docker build -t canopy-dev \.' &&
   echo "$n" | grep -q "docker run --rm -it -u .*-v \"$ROOT\":/canopy -w /canopy canopy-dev"; then
  ok docker_shell_mounts
else
  fail docker_shell_mounts "make -n docker-shell printed: $n"
fi
exit $failed
