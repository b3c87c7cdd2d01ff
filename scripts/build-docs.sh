#!/usr/bin/env bash
# The DocC documentation, through swift-docc-plugin:
#  1. AttnKit's catalog (Sources/AttnKit/AttnKit.docc: overview, the four tasks of the README example,
#     one article per proof, the conventions), with warnings as errors so a broken link fails CI;
#  2. one combined archive of AttnKit and every module it re-exports (their symbols and doc comments).
#     An umbrella's symbol graph holds only its own declarations (none), so the modules are built too.
#   scripts/build-docs.sh            writes .build/docs/AttnKit.doccarchive and .build/docs/attnbound.doccarchive
#   scripts/build-docs.sh --preview  serves AttnKit's catalog locally
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(AttnCore AttnKernels AttnCertified AttnPoly AttnPaged AttnBlockSparse AttnPruning AttnExperiments)
if [[ "${1:-}" == --preview ]]; then
    exec swift package --disable-sandbox preview-documentation --target AttnKit
fi
# Every proof has its article in the catalog (issue 13): a proof added without one fails the build.
missing=0
for proof in Proofs/*.md; do
    [[ "$proof" == Proofs/README.md ]] && continue
    if ! grep -qF "\`$proof\`" Sources/AttnKit/AttnKit.docc/Proof-*.md; then
        echo "error: $proof has no article in Sources/AttnKit/AttnKit.docc (add Proof-<Name>.md)" >&2
        missing=1
    fi
done
((missing == 0)) || exit 1
mkdir -p .build/docs
swift package --allow-writing-to-directory .build/docs generate-documentation --target AttnKit \
    --output-path .build/docs/AttnKit.doccarchive --warnings-as-errors
targets=(--target AttnKit)
for m in "${modules[@]}"; do targets+=(--target "$m"); done
swift package --allow-writing-to-directory .build/docs generate-documentation "${targets[@]}" \
    --enable-experimental-combined-documentation --output-path .build/docs/attnbound.doccarchive
echo "docs: .build/docs/AttnKit.doccarchive, .build/docs/attnbound.doccarchive"
