#!/bin/sh
# Builds the files every busybox case sees, in the current directory. Both
# the native run and the emulated one get a fresh copy made by this script,
# in the same order (so readdir order matches) and with fixed times.
set -e
printf 'the quick brown fox\njumps over\nthe lazy dog\n\nthe end\n' > text.txt
printf 'pear\napple\nfig\napple\nbanana\nfig\napple\n' > fruit.txt
printf '10\n2\n33\n4\n-5\n' > nums.txt
printf 'a:b:c\n1:2:3\nx:y:z\n' > colon.txt
i=0; while [ $i -lt 2000 ]; do echo "line $i of the repetitive file"; i=$((i + 1)); done > big.txt
printf '\000\001\002\003binary\377\376' > data.bin
cat > script.sh <<'END'
# a here-document, positional parameters, a function and a loop
greet() { printf 'hello %s\n' "$@"; }
cat <<EOT
a $((1 + 1)) $# $1
EOT
greet "$@"
for x in 3 2 1; do echo "count $x"; done | sort
END
mkdir -p tree/sub/deeper tree/empty
echo one > tree/one.txt
echo two > tree/sub/two.txt
echo three > tree/sub/deeper/three.txt
ln -s one.txt tree/link
chmod 640 tree/one.txt
touch -h -d '2020-01-02 03:04:05' tree/link tree/one.txt tree/sub/two.txt tree/sub/deeper/three.txt \
    tree/sub/deeper tree/sub tree/empty text.txt fruit.txt nums.txt colon.txt big.txt data.bin
touch -d '2020-01-02 03:04:05' tree
