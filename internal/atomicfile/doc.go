// Package atomicfile replaces a file's content so that a crash or a full
// disk at any moment leaves either the old content or the new, never half
// of it: the state file, saved plans, formatted configuration files and
// the figures written into the docs all go through it. It owns the order
// of the steps (temporary file beside the target, fsync, rename, directory
// fsync); what the content is and how errors are worded for users belongs
// to its callers.
package atomicfile
