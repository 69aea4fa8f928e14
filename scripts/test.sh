#!/usr/bin/env bash
# The test command: unit, property and golden-data tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product repro
swift test
