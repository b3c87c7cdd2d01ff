#!/usr/bin/env bash
# The DocC documentation of AttnKit (the umbrella: every public module's symbols, the four
# tasks of the README example, one article per proof, the conventions), through
# swift-docc-plugin. Broken links in the catalog are errors.
#   scripts/build-docs.sh            writes .build/docs/AttnKit.doccarchive
#   scripts/build-docs.sh --preview  serves it locally (swift package preview-documentation)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == --preview ]]; then
    exec swift package --disable-sandbox preview-documentation --target AttnKit
fi
swift package --allow-writing-to-directory .build/docs generate-documentation --target AttnKit \
    --output-path .build/docs/AttnKit.doccarchive --warnings-as-errors
echo "docs: .build/docs/AttnKit.doccarchive"
