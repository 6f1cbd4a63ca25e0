// Package lsp is herald's language server: it speaks the Language Server
// Protocol over a stream (stdin and stdout for `herald lsp`) and answers
// an editor with the diagnostics `herald validate` gives, completion,
// hover, go-to-definition, document symbols and formatting.
//
// It owns the editor's view of the configuration: the open documents,
// whose unsaved text wins over the files on disk (spec.LoadOptions.Overlay),
// and the mapping between HCL's source ranges and the protocol's
// positions. It reads the language only through spec (the loader and
// spec.BlockDocs, the one documentation of every argument) and formats
// through spec/format. It must not read state, contact A1Base or write
// files.
package lsp
