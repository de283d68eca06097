package daemon

import (
	"context"
	"fmt"
)

// methodPerms is the permission each API method needs, by its JSON-RPC
// name: namespace_method, or for a subscription namespace_name, the name
// given to namespace_subscribe. Every method of every namespace passes
// through guard.allow (rpc_gen.go), which refuses a method missing here
// to every caller, so a new method is unreachable until it has a line;
// TestPermissionTable fails first.
var methodPerms = map[string]Perm{
	"node_id":      PermRead,
	"node_version": PermRead,
	"node_connect": PermWrite,
	"node_peers":   PermRead,

	"auth_createToken": PermAdmin,
	"auth_consoleLink": PermAdmin,

	"datanet_create": PermSign,
	"datanet_update": PermSign,
	"datanet_list":   PermRead,
	"datanet_show":   PermRead,
	"datanet_join":   PermWrite,
	"datanet_leave":  PermWrite,
	"datanet_joined": PermRead,
	// A subscription: datanet_subscribe("objects", id).
	"datanet_objects": PermRead,

	// content_add reads files with the daemon's permissions, as Lotus's
	// ClientImport does: sign, not write.
	"content_add":           PermSign,
	"content_addProgress":   PermSign,
	"content_fetch":         PermRead,
	"content_fetchProgress": PermRead,
	"content_providers":     PermRead,
	"content_ls":            PermRead,
	"content_pin":           PermWrite,
	"content_unpin":         PermWrite,
	"content_pins":          PermRead,

	"repo_stat":   PermRead,
	"repo_gc":     PermAdmin,
	"repo_verify": PermAdmin,

	"curation_vote":       PermSign,
	"curation_typedData":  PermRead,
	"curation_submitVote": PermWrite,
	"curation_show":       PermRead,
	"curation_pending":    PermRead,
	"curation_status":     PermRead,

	"snapshot_cut":     PermSign,
	"snapshot_list":    PermRead,
	"snapshot_get":     PermRead,
	"snapshot_entries": PermRead,
	"snapshot_verify":  PermRead,

	"anchor_status": PermRead,
	"anchor_flush":  PermWrite,

	"proofs_show":   PermRead,
	"proofs_verify": PermRead,
	"proofs_check":  PermRead,

	"chain_status": PermRead,
	"chain_deploy": PermAdmin,

	"model_register": PermSign,
	"model_show":     PermRead,
	"model_list":     PermRead,

	"attribution_index":         PermWrite,
	"attribution_indexProgress": PermWrite,
	"attribution_attribute":     PermSign,
	"attribution_get":           PermRead,
	"attribution_records":       PermRead,
	"attribution_verify":        PermWrite,

	"rewards_params":     PermRead,
	"rewards_closeEpoch": PermSign,
	"rewards_epochs":     PermRead,
	"rewards_show":       PermRead,
	"rewards_claim":      PermSign,
	"rewards_verify":     PermRead,
}

// guard decides whether the caller of an API method holds a permission.
// Each rpc.Server has its own: the unix socket and in-process server's
// allows everything (allowAll), the HTTP server's compares the level the
// HTTP middleware recorded in the request's context (requirePerm).
type guard func(ctx context.Context, need Perm) error

// allowAll is the guard of the unix socket and in-process server.
func allowAll(context.Context, Perm) error { return nil }

// requirePerm is the guard of the HTTP server. A context without a level
// (a request that did not pass the middleware) holds no permission.
func requirePerm(ctx context.Context, need Perm) error {
	if have := permFrom(ctx); have < need {
		return fmt.Errorf("%w: this call needs a %s token (create one with `openledger auth create-token --perm %s`)", ErrPermission, need, need)
	}
	return nil
}

// allow checks a call of method against the permission table.
func (g guard) allow(ctx context.Context, method string) error {
	need, ok := methodPerms[method]
	if !ok {
		return fmt.Errorf("%w: %s has no entry in the permission table", ErrPermission, method)
	}
	return g(ctx, need)
}

// serve runs one call of an API method for the JSON-RPC server, the one
// place between the rpc package and the namespaces' code: the caller must
// hold the permission the table gives method, and an error leaves with its
// stable code (apiError).
func serve[R any](ctx context.Context, g guard, method string, call func() (R, error)) (R, error) {
	if err := g.allow(ctx, method); err != nil {
		var zero R
		return zero, apiError(err)
	}
	r, err := call()
	return r, apiError(err)
}

// serveErr is serve for a method without a result.
func serveErr(ctx context.Context, g guard, method string, call func() error) error {
	_, err := serve(ctx, g, method, func() (struct{}, error) { return struct{}{}, call() })
	return err
}
