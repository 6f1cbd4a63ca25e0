// Package addrs holds the typed address of a message instance,
// message.NAME or message.NAME["KEY"], possibly inside a module instance:
// module.emea.message.NAME, module.region["emea"].message.NAME["KEY"]. The
// same address keys an instance in configuration, plans and state, so it
// has one printed form and one parser.
//
// It must not know about configuration, plans or state beyond the address
// itself: every other package depends on it, and it depends on none of
// herald's.
package addrs
