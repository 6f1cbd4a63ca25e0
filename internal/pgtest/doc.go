// Package pgtest gives tests a real PostgreSQL database.
//
// Start returns a connection string for a database of the test's own. When
// the environment variable HERALD_TEST_PG holds a connection string, the
// server it names is used (its role must be allowed to create databases);
// otherwise one throwaway server per test binary is started from the
// PostgreSQL binaries found on PATH or under /usr/lib/postgresql/*/bin, with
// its files in a temporary directory, trust authentication, and fsync off.
// When the tests run as root, the server runs as the postgres user, since
// PostgreSQL refuses to run as root.
//
// A test binary that uses Start should run its tests through Main from
// TestMain, so that the server is stopped and its directory removed at the
// end; without it the server still dies with the test binary on Linux, but
// its temporary directory stays behind.
//
// The package must not be imported by anything but tests.
package pgtest
