// Package format is herald fmt's formatter: it rewrites configuration
// source in the canonical layout (hclwrite's) and finds the *.hcl files a
// directory holds. It never writes files and never prints; the fmt command
// reads, writes and reports.
package format
