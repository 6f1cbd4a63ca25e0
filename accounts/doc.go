// Package accounts turns the configuration's providers into the A1Base
// clients and account limits the executor sends with: the real API, with
// credentials from the environment, or the sandbox inside herald. It also
// says which providers' accounts a pass needs (Due, Needed), so that a
// provider with nothing to do needs no credentials.
//
// Credentials come from the environment only: A1BASE_API_KEY and
// A1BASE_API_SECRET for the default provider, A1BASE_<ALIAS>_API_KEY and
// A1BASE_<ALIAS>_API_SECRET for an aliased one. The package must not print
// anything, and never puts a credential in an error.
package accounts
