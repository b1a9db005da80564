#!/bin/bash
# Runs commands in turn, RUNS rounds, and prints each one's median wall time,
# CPU time (user + system), system time and peak memory (MiB), from
# /usr/bin/time. Alternating keeps a noisy machine's drift out of comparisons.
#   bench/ab.sh 7 "OLD/hindsight build --root /tmp/kb10k -o /dev/shm/out" "NEW/hindsight build ..."
# /dev/shm/out is removed before each run.
runs=$1; shift
for ((r=0; r<runs; r++)); do
  k=0
  for c in "$@"; do
    rm -rf /dev/shm/out
    /usr/bin/time -f "%e %U %S %M" -o /tmp/ab.$k.$r bash -c "$c" >/dev/null 2>&1
    k=$((k+1))
  done
done
k=0
for c in "$@"; do
  cat /tmp/ab.$k.* | python3 -c "
import sys,statistics as st
rows=[list(map(float,l.split())) for l in sys.stdin if l.strip()]
w=[r[0] for r in rows]; c=[r[1]+r[2] for r in rows]; s=[r[2] for r in rows]; m=[r[3] for r in rows]
print('%-60s wall %.2f (%.2f-%.2f) cpu %.2f sys %.2f rss %d MB' % (sys.argv[1][:60], st.median(w), min(w), max(w), st.median(c), st.median(s), st.median(m)/1024))
" "$c"
  rm -f /tmp/ab.$k.*
  k=$((k+1))
done
