#!/bin/sh
# test_mkfs.sh: does mkfs build an image that fsck accepts, and does fsck
# notice when the image is damaged? Builds mkfs and fsck with the host
# compiler into a scratch directory, makes an image from a few host files
# (big ones needing the single and the double indirect block), then damages copies of it
# one way at a time. Prints "test NAME: OK" or "test NAME: FAIL why";
# exits 1 if any test failed. Run from anywhere: sh tests/host/test_mkfs.sh
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CC=${HOSTCC:-cc}
failed=0

ok()   { echo "test $1: OK"; }
fail() { echo "test $1: FAIL $2"; failed=1; }

build() {
  $CC -Wall -Werror -O2 -I"$ROOT" -o "$TMP/$1" "$ROOT/mkfs/$1.c" 2>"$TMP/$1.err"
}

# Python helper: damage image $1 in the way named by $2.
corrupt() {
  python3 - "$1" "$2" <<'PY'
import struct, sys
path, how = sys.argv[1], sys.argv[2]
BSIZE, IPB, DINODE = 1024, 16, 64
img = bytearray(open(path, 'rb').read())
magic, size, nblocks, ninodes, nlog, logstart, inodestart, bmapstart = \
    struct.unpack_from('<8I', img, BSIZE)
def dinode(inum):
    return (inodestart + inum // IPB) * BSIZE + (inum % IPB) * DINODE
def bit(b):
    return bmapstart * BSIZE + b // 8, 1 << (b % 8)
if how == 'bitmap-leak':       # mark the last (unused) block as used
    off, m = bit(size - 1); img[off] |= m
elif how == 'bitmap-free':     # free the first data block of inode 2
    first = struct.unpack_from('<I', img, dinode(2) + 12)[0]
    off, m = bit(first); img[off] &= ~m & 0xff
elif how == 'nlink':           # bump the link count of inode 2
    struct.pack_into('<h', img, dinode(2) + 6, 2)
elif how == 'double-dup':      # huge (inode 5): a doubly mapped block
    dind = struct.unpack_from('<I', img, dinode(5) + 12 + 4 * 12)[0]
    ind = struct.unpack_from('<I', img, dind * BSIZE)[0]
    first = struct.unpack_from('<I', img, ind * BSIZE)[0]
    struct.pack_into('<I', img, ind * BSIZE + 4 * 5, first)
elif how == 'empty-indirect':  # big (inode 4): its indirect block emptied
    ind = struct.unpack_from('<I', img, dinode(4) + 12 + 4 * 11)[0]
    img[ind * BSIZE:(ind + 1) * BSIZE] = bytes(BSIZE)
elif how == 'magic':
    img[BSIZE] ^= 0xff
elif how == 'free-inode':      # free inode 2 while the root still names it
    struct.pack_into('<h', img, dinode(2), 0)
elif how == 'dotdot':          # root's ".." (entry 1) names inode 2
    rootblk = struct.unpack_from('<I', img, dinode(1) + 12)[0]
    struct.pack_into('<H', img, rootblk * BSIZE + 16, 2)
open(path, 'wb').write(img)
PY
}

if build mkfs; then ok build_mkfs; else fail build_mkfs "$(head -3 "$TMP/mkfs.err")"; exit 1; fi
if build fsck; then ok build_fsck; else fail build_fsck "$(head -3 "$TMP/fsck.err")"; exit 1; fi

# Input files: small text, empty, one of 40 KiB (needs the indirect block)
# and one of 600 KiB (needs the double indirect block: > 11 + 256 blocks).
printf 'hello, canopy\n' > "$TMP/hello.txt"
: > "$TMP/_empty"
head -c 40000 /dev/urandom > "$TMP/big"
head -c 614400 /dev/urandom > "$TMP/huge"
if "$TMP/mkfs" "$TMP/fs.img" "$TMP/hello.txt" "$TMP/_empty" "$TMP/big" "$TMP/huge" >"$TMP/mkfs.out" 2>&1; then
  ok mkfs_builds_image
else
  fail mkfs_builds_image "$(cat "$TMP/mkfs.out")"; exit 1
fi

# The image must hold the file names, '_' stripped, and the big file's bytes.
if python3 - "$TMP/fs.img" "$TMP/big" "$TMP/huge" <<'PY'
import struct, sys
img = open(sys.argv[1], 'rb').read(); big = open(sys.argv[2], 'rb').read()
huge = open(sys.argv[3], 'rb').read()
B = 1024
sb = struct.unpack_from('<8I', img, B); inodestart = sb[6]
def din(i):
    o = (inodestart + i // 16) * B + (i % 16) * 64
    t, maj, mi, nl, size = struct.unpack_from('<4hI', img, o)
    return t, size, struct.unpack_from('<13I', img, o + 12)
def ind(b):
    return list(struct.unpack_from('<256I', img, b * B)) if b else [0] * 256
def read(i):
    t, size, a = din(i)      # 11 direct, single indirect, double indirect
    blocks = list(a[:11]) + ind(a[11])
    for b in ind(a[12]):
        blocks += ind(b)
    data = b''.join(img[b * B:(b + 1) * B] for b in blocks[:(size + B - 1) // B])
    return data[:size]
names = {}
root = read(1)
for k in range(0, len(root), 16):
    inum = struct.unpack_from('<H', root, k)[0]
    if inum:
        names[root[k + 2:k + 16].rstrip(b'\0').decode()] = inum
assert set(names) == {'.', '..', 'hello.txt', 'empty', 'big', 'huge'}, names
assert read(names['big']) == big, 'big file contents differ'
assert read(names['huge']) == huge, 'huge file contents differ'
assert din(names['empty'])[1] == 0
PY
then ok mkfs_contents; else fail mkfs_contents "names or contents wrong"; fi

if "$TMP/fsck" "$TMP/fs.img" > "$TMP/fsck.out" 2>&1; then
  ok fsck_accepts_fresh_image
else
  fail fsck_accepts_fresh_image "$(grep -v ' ok$' "$TMP/fsck.out" | head -3)"
fi

# Each damage must make fsck fail, and the check that catches it must say so.
for case in "bitmap-leak:marked in the bitmap but unused" \
            "bitmap-free:free in the bitmap" \
            "nlink:nlink" \
            "double-dup:used twice" \
            "empty-indirect:maps nothing" \
            "magic:magic" \
            "free-inode:names free inode" \
            "dotdot:\"..\" names"; do
  how=${case%%:*}; want=${case#*:}
  cp "$TMP/fs.img" "$TMP/bad.img"
  corrupt "$TMP/bad.img" "$how"
  if "$TMP/fsck" "$TMP/bad.img" > "$TMP/bad.out" 2>&1; then
    fail "fsck_detects_$how" "fsck exited 0 on a damaged image"
  elif ! grep -q "$want" "$TMP/bad.out"; then
    fail "fsck_detects_$how" "no report containing '$want'"
  else
    ok "fsck_detects_$how"
  fi
done

# mkfs must refuse a name longer than DIRSIZ.
printf x > "$TMP/a_name_that_is_too_long"
if "$TMP/mkfs" "$TMP/x.img" "$TMP/a_name_that_is_too_long" > /dev/null 2>&1; then
  fail mkfs_rejects_long_name "mkfs accepted a 23-character name"
else
  ok mkfs_rejects_long_name
fi

exit $failed
