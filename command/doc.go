// Package command holds herald's subcommands: one file per command, each
// parsing its flags into a plain options struct and calling a run function.
// Commands print only through the views package.
//
// The engine lives outside command: operation carries out one locked pass
// of the send protocol (apply, import and each pass of run), daemon is
// herald run's scheduler and replica lease, accounts turns providers into
// clients and limits, and state/backends opens the state the configuration
// names. A command reads its flags, wires those pieces together and hands
// what they report to its view.
package command
