#!/usr/bin/env bash
# Bad input to `repro hessian`, end to end through the built binary: every malformed spec,
# checkpoint, batch or optimizer-state file must give exactly one line starting "Error:" and
# exit status 1 (issue 18). The files are written byte by byte here (safetensors: an 8-byte
# little-endian header length, a JSON header, the data), so the script needs only bash.
# A well-formed set of the same files must measure (status 0): the failures are the defects
# planted, not the scaffolding.
set -uo pipefail
cd "$(dirname "$0")/.."
repro=${REPRO:-.build/release/repro}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# st FILE HEADER DATA_BYTES: a safetensors file with JSON HEADER and DATA_BYTES zero bytes
# (zeros are finite float32 and int64 0).
st() {
  local file=$1 header=$2 bytes=$3 n=${#2} i
  for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(( (n >> (8 * i)) & 255 )))"; done > "$file"
  printf '%s' "$header" >> "$file"
  head -c "$bytes" /dev/zero >> "$file"
}
# A float32 tensor entry: name, shape, begin, end.
f32() { printf '"%s":{"dtype":"F32","shape":[%s],"data_offsets":[%d,%d]}' "$1" "$2" "$3" "$4"; }
i64() { printf '"%s":{"dtype":"I64","shape":[%s],"data_offsets":[%d,%d]}' "$1" "$2" "$3" "$4"; }

model=mlp:2-2:identity                     # layers.0.weight [2, 2], layers.0.bias [2]
W="$(f32 layers.0.weight 2,2 0 16),$(f32 layers.0.bias 2 16 24)"
st "$dir/w.st" "{$W}" 24
st "$dir/b.st" "{$(f32 x 3,2 0 24),$(i64 y 3 24 48)}" 48
A="$(f32 layers.0.weight.exp_avg_sq 2,2 0 16),$(f32 layers.0.bias.exp_avg_sq 2 16 24)"
st "$dir/a.st" "{\"__metadata__\":{\"step\":\"10\"},$A}" 24

# Malformed checkpoints.
st "$dir/w-shape.st" "{$(f32 layers.0.weight 3,2 0 24),$(f32 layers.0.bias 2 24 32)}" 32
st "$dir/w-missing.st" "{$(f32 layers.0.weight 2,2 0 16)}" 16
st "$dir/w-extra.st" "{$W,$(f32 layers.9.weight 1 24 28)}" 28
st "$dir/w-json.st" "{$W" 24
st "$dir/w-short.st" "{$W}" 20
printf 'not a safetensors file' > "$dir/w-text.st"
head -c 5 "$dir/w.st" > "$dir/w-trunc.st"
# Malformed batches.
st "$dir/b-noy.st" "{$(f32 x 3,2 0 24)}" 24
st "$dir/b-width.st" "{$(f32 x 3,3 0 36),$(i64 y 3 36 60)}" 60
st "$dir/b-count.st" "{$(f32 x 3,2 0 24),$(i64 y 2 24 40)}" 40
st "$dir/b-empty.st" "{$(f32 x 0,2 0 0),$(i64 y 0 0 0)}" 0
# A label out of range: y = [0, 0, 7] with 2 classes (bytes written by hand).
st "$dir/b-label.st" "{$(f32 x 3,2 0 24),$(i64 y 3 24 48)}" 40
printf '\x07\x00\x00\x00\x00\x00\x00\x00' >> "$dir/b-label.st"
# Malformed optimizer states.
st "$dir/a-missing.st" "{\"__metadata__\":{\"step\":\"10\"},$(f32 layers.0.weight.exp_avg_sq 2,2 0 16)}" 16
st "$dir/a-shape.st" "{\"__metadata__\":{\"step\":\"10\"},$(f32 layers.0.weight.exp_avg_sq 4 0 16),$(f32 layers.0.bias.exp_avg_sq 2 16 24)}" 24
st "$dir/a-step.st" "{\"__metadata__\":{\"step\":\"ten\"},$A}" 24
st "$dir/a-nostep.st" "{$A}" 24

failures=0
# expect_error NAME ARGS…: status 1, one line of output, starting "Error:".
expect_error() {
  local name=$1; shift
  local out rc
  out=$("$repro" hessian --quiet "$@" 2>&1); rc=$?
  if [[ $rc -ne 1 || $(printf '%s\n' "$out" | wc -l) -ne 1 || $out != Error:* ]]; then
    echo "FAIL $name: status $rc, output:"; printf '%s\n' "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok   $name: $out"
  fi
}

ok=$("$repro" hessian --quiet --model $model --checkpoint "$dir/w.st" --batch "$dir/b.st" --adam-state "$dir/a.st" 2>&1)
if [[ $? -ne 0 ]]; then echo "FAIL the well-formed files do not measure:"; echo "$ok"; exit 1; fi
echo "ok   well-formed files measure"

C=(--model $model --checkpoint)
expect_error "unknown model"        --model nope --checkpoint "$dir/w.st" --batch "$dir/b.st"
expect_error "malformed mlp spec"   --model mlp:2--2:tanh --checkpoint "$dir/w.st" --batch "$dir/b.st"
expect_error "unknown activation"   --model mlp:2-2:swish --checkpoint "$dir/w.st" --batch "$dir/b.st"
expect_error "unknown size"         --model wrn-nobn:huge --checkpoint "$dir/w.st" --batch "$dir/b.st"
expect_error "missing checkpoint"   "${C[@]}" "$dir/none.st" --batch "$dir/b.st"
expect_error "checkpoint is a dir"  "${C[@]}" "$dir" --batch "$dir/b.st"
expect_error "not safetensors"      "${C[@]}" "$dir/w-text.st" --batch "$dir/b.st"
expect_error "truncated header"     "${C[@]}" "$dir/w-trunc.st" --batch "$dir/b.st"
expect_error "corrupt JSON header"  "${C[@]}" "$dir/w-json.st" --batch "$dir/b.st"
expect_error "data cut short"       "${C[@]}" "$dir/w-short.st" --batch "$dir/b.st"
expect_error "wrong shape"          "${C[@]}" "$dir/w-shape.st" --batch "$dir/b.st"
expect_error "missing parameter"    "${C[@]}" "$dir/w-missing.st" --batch "$dir/b.st"
expect_error "extra tensor"         "${C[@]}" "$dir/w-extra.st" --batch "$dir/b.st"
expect_error "missing batch"        "${C[@]}" "$dir/w.st" --batch "$dir/none.st"
expect_error "batch without y"      "${C[@]}" "$dir/w.st" --batch "$dir/b-noy.st"
expect_error "batch x width"        "${C[@]}" "$dir/w.st" --batch "$dir/b-width.st"
expect_error "x and y counts"       "${C[@]}" "$dir/w.st" --batch "$dir/b-count.st"
expect_error "empty batch"          "${C[@]}" "$dir/w.st" --batch "$dir/b-empty.st"
expect_error "label out of range"   "${C[@]}" "$dir/w.st" --batch "$dir/b-label.st"
expect_error "missing Adam state"   "${C[@]}" "$dir/w.st" --batch "$dir/b.st" --adam-state "$dir/none.st"
expect_error "Adam state lacks a v" "${C[@]}" "$dir/w.st" --batch "$dir/b.st" --adam-state "$dir/a-missing.st"
expect_error "Adam v wrong shape"   "${C[@]}" "$dir/w.st" --batch "$dir/b.st" --adam-state "$dir/a-shape.st"
expect_error "Adam step not a number" "${C[@]}" "$dir/w.st" --batch "$dir/b.st" --adam-state "$dir/a-step.st"
expect_error "Adam state no step"   "${C[@]}" "$dir/w.st" --batch "$dir/b.st" --adam-state "$dir/a-nostep.st"

if [[ $failures -gt 0 ]]; then echo "$failures bad inputs not reported as one Error: line with status 1"; exit 1; fi
echo "every bad input: one Error: line, status 1"
