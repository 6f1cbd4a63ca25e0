// Package plankey finds the key a saved plan's hashes of sensitive values
// are made with: HERALD_PLAN_KEY, or a random key herald keeps in the
// user's configuration directory. It reads the environment only through
// the function the caller passes.
package plankey
