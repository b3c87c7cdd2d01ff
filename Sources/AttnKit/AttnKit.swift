// One module to import, as swift-numerics' `Numerics`: `import AttnKit` brings
// every public attnbound module into scope. Nothing is declared here, so the
// umbrella can never disagree with the modules it re-exports; code that needs
// only one layer can still depend on that module's own product.
@_exported import AttnBlockSparse
@_exported import AttnCertified
@_exported import AttnCore
@_exported import AttnExperiments
@_exported import AttnKernels
@_exported import AttnPaged
@_exported import AttnPoly
@_exported import AttnPruning
