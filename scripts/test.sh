#!/usr/bin/env bash
# The test command: unit, property and golden-data tests, then the tiny-scale figure-data
# regression (every experiment at tiny scale against Tests/Golden, within stated tolerances).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product repro
swift test
.build/release/repro check
bash scripts/cli-errors.sh
