// Package daemon wires one openledger node together and runs it: the repo
// directory (config.toml, keystore, datastore, lock), the operator's keys,
// the lifecycle of the node's components, and the local API: JSON-RPC 2.0
// over a unix socket and over HTTP on loopback with bearer tokens of four
// permission levels (one table, methodPerms, checked for every call by the
// generated services of service_gen.go), a typed client of that API (API),
// verified content over HTTP, the web console's sessions (console_http.go;
// its page is package console), and Prometheus metrics.
//
// It owns wiring and lifecycle only. What a Datanet or a contribution is,
// how content is stored, and how proofs are built belong to the packages it
// wires (datanet, storage, proofs); daemon must not grow that logic itself.
package daemon
