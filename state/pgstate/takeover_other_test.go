//go:build !linux

package pgstate

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// checkClientKeepalives reads socket options the Linux way; elsewhere the
// server's side, checked with SHOW, is what bounds a takeover.
func checkClientKeepalives(t *testing.T, what string, c *pgx.Conn) {}
