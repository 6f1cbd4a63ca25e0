// Package atomicfile replaces a file's content so that a crash or a full
// disk at any moment leaves either the old content or the new, never half
// of it: the state file, saved plans and formatted configuration files are
// all written through it. It owns the order of the steps (temporary file
// beside the target, fsync, rename, directory fsync); what the content is
// and how errors are worded for users belongs to its callers.
package atomicfile
