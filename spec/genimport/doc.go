// Package genimport writes import blocks: the configuration that adopts
// messages already sent into state, as "herald plan -generate-imports"
// prints it. It formats with hclwrite and knows nothing of threads,
// state or the network: the caller says what was found where.
package genimport
