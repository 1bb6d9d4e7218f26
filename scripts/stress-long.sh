#!/usr/bin/env bash
# The stress test's long run (issue 10): SEQUENCES sequences from BASE_SEED, in parts of PART
# sequences, each part its own process (a hang leaves a stuck pipeline behind, which would make
# what follows in that process suspect), PARALLEL parts at a time (a sequence mostly waits on
# live sources and clocks: one uses about a fifth of a core). Prints every failure's seed and
# the totals; exits 1 when a sequence failed.
#
#   bash scripts/stress-long.sh                       # 10 000 sequences from base seed 20261202
#   SEQUENCES=1000 BASE_SEED=7 PARALLEL=4 bash scripts/stress-long.sh
#
# Logs go to $OUT (default <cargo target dir>/stress-long/<base seed>), one per part.
set -euo pipefail
cd "$(dirname "$0")/.."

SEQUENCES=${SEQUENCES:-10000}
BASE_SEED=${BASE_SEED:-20261202}
PART=${PART:-250}
PARALLEL=${PARALLEL:-6}
OUT=${OUT:-${CARGO_TARGET_DIR:-target}/stress-long/$BASE_SEED}

binary=$(cargo test --release --locked --test stress --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*stress[^"]*\)".*/\1/p' | tail -1)
[ -x "$binary" ] || { echo "stress-long: could not build the stress test" >&2; exit 2; }
mkdir -p "$OUT"
rm -f "$OUT"/part-*.log

run_part() {
    local first=$1
    local count=$(( SEQUENCES - first < PART ? SEQUENCES - first : PART ))
    PUSHSOURCE_STRESS_KEEP_GOING=1 PUSHSOURCE_STRESS_BASE_SEED=$BASE_SEED \
        PUSHSOURCE_STRESS_FIRST_SEQUENCE=$first PUSHSOURCE_STRESS_SEQUENCES=$count \
        G_DEBUG=fatal_warnings nice -n 19 "$binary" random_sequences_keep_the_readme_promises --exact --nocapture \
        >"$OUT/part-$(printf %06d "$first").log" 2>&1 || true
}
export -f run_part
export SEQUENCES PART BASE_SEED OUT binary

started=$(date +%s)
seq 0 "$PART" $(( SEQUENCES - 1 )) | xargs -P "$PARALLEL" -I{} bash -c 'run_part {}'
elapsed=$(( $(date +%s) - started ))

summaries=$(for log in "$OUT"/part-*.log; do
    grep -m1 '^stress: [0-9]* sequences, [0-9]* operations' "$log" || true
done)
parts=$(ls "$OUT"/part-*.log | wc -l)
finished=$(echo -n "$summaries" | grep -c . || true)
sum() { echo "$summaries" | sed -n "s/$1/\1/p" | paste -sd+ | bc; }
sequences=$(sum '^stress: \([0-9]*\) sequences.*')
operations=$(sum '.* sequences, \([0-9]*\) operations.*')
failed=$(cat "$OUT"/part-*.log | grep -c '^stress: FAILED seed' || true)
hangs=$(cat "$OUT"/part-*.log | grep -c '^stress: FAILED seed .*HANG' || true)

echo "stress-long: base seed $BASE_SEED, $parts parts of up to $PART, $PARALLEL at a time, ${elapsed} s"
grep -h '^stress: FAILED seed' "$OUT"/part-*.log | cut -c1-220 || true
echo "stress-long: ${sequences:-0} sequences, ${operations:-0} operations; $failed failed ($hangs hangs); $finished of $parts parts printed their figures (a part whose process died did not); logs in $OUT"
[ "$failed" -eq 0 ] && [ "$finished" -eq "$parts" ]
