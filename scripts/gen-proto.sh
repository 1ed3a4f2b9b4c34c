#!/usr/bin/env bash
# Regenerates the TypeScript types of proto/ambit/v1/*.proto into common/proto/generated/.
# The options must match common/proto/options.ts (the runtime loader uses the same ones);
# test/unit/proto-generated.test.ts fails when the committed output is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-common/proto/generated}"
rm -rf "$out"
node node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js \
  --longs=Number --enums=String --defaults --oneofs --includeComments \
  --grpcLib=@grpc/grpc-js -I proto -O "$out" \
  ambit/v1/config.proto ambit/v1/certificate.proto >/dev/null
