// Package mediacheck is plan -check-media's preflight: it asks the host of
// every media file a plan would send (through a probe the caller passes,
// a HEAD request without credentials in herald) and turns the answers into
// diagnostics on the media's url attribute. It never prints; it touches
// the network only through the probe.
package mediacheck
