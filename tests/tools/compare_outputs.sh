#!/usr/bin/env bash
# Runs two mlcost binaries on every CSV fixture (tests/fixtures, sample_data, a generated
# sample) and compares what they write, byte for byte: the Parquet tables and quarantine.csv
# as they are, manifest.json without its run time. Used to check that a change to the readers
# changes no output.
#
#   tests/tools/compare_outputs.sh OLD_BINARY NEW_BINARY
set -euo pipefail
old=$1
new=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cp -r "$repo/tests/fixtures" fixtures
cp -r "$repo/sample_data" sample_data
"$new" sample --out gen --rows 3000 --months 2 --seed 7 -q
gzip -k gen/focus_sample.csv

cases=()
for f in $(find fixtures sample_data gen -name '*.csv' -o -name '*.csv.gz' | sort); do
  case $f in
    */requests.csv|*/revenue.csv|*/feature_reads.csv) continue ;;
  esac
  cases+=("attribute --billing $f")
done
cases+=("attribute --billing sample_data/focus_sample.csv --requests sample_data/requests.csv --config sample_data/mlcost.toml")
cases+=("attribute --billing fixtures/focus/basic.csv --requests fixtures/focus/requests.csv --revenue fixtures/focus/revenue.csv")
cases+=("attribute --billing gen/focus_sample.csv --requests gen/requests.csv --config fixtures/rules/every_rule.toml")
cases+=("attribute --billing fixtures/history/billing.csv --requests fixtures/history/requests.csv")

status=0
n=0
for c in "${cases[@]}"; do
  n=$((n + 1))
  for side in old new; do
    bin=$old
    [ $side = new ] && bin=$new
    rm -rf "out_$side"
    set +e
    MLCOST_NO_PROGRESS=1 $bin $c --out "out_$side" -q >"stdout_$side" 2>"stderr_$side"
    echo $? >"code_$side"
    set -e
    if [ -f "out_$side/manifest.json" ]; then
      python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m.pop("run",None); json.dump(m,open(sys.argv[1],"w"),indent=1,sort_keys=True)' "out_$side/manifest.json"
    fi
  done
  if ! cmp -s code_old code_new; then
    echo "DIFF exit code: $c ($(cat code_old) vs $(cat code_new))"; status=1; continue
  fi
  if [ ! -e out_old ] && [ ! -e out_new ]; then
    if ! cmp -s stderr_old stderr_new; then
      echo "DIFF error message: $c"; diff stderr_old stderr_new | head -10; status=1; continue
    fi
    echo "same: $c (exit $(cat code_new), no output: $(head -c 100 stderr_new | head -1))"
    continue
  fi
  if ! diff -r out_old out_new >/dev/null 2>&1; then
    echo "DIFF outputs: $c"; diff -r out_old out_new | head -20; status=1; continue
  fi
  files=$(find out_new -type f 2>/dev/null | wc -l)
  echo "same: $c (exit $(cat code_new), $files files)"
done
echo "$n cases compared"
exit $status
