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
	"auth_rotate":      PermAdmin,
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
	"chain_rpcUrl": PermRead,

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

	"object_get": PermRead,
}

// guard returns the permission level of the caller of an API method. Each
// rpc.Server has its own: the unix socket and in-process server's trusts
// every caller with admin (allowAll), the HTTP server's returns the level
// the HTTP middleware recorded in the request's context (tokenPerm).
type guard func(ctx context.Context) Perm

// allowAll is the guard of the unix socket and in-process server.
func allowAll(context.Context) Perm { return PermAdmin }

// tokenPerm is the guard of the HTTP server. A context without a level
// (a request that did not pass the middleware) holds no permission.
func tokenPerm(ctx context.Context) Perm { return permFrom(ctx) }

// requirePerm refuses a request whose context holds less than need (the
// HTTP handlers outside JSON-RPC check it).
func requirePerm(ctx context.Context, need Perm) error {
	return needPerm(permFrom(ctx), need)
}

// needPerm refuses a caller of level have what needs need.
func needPerm(have, need Perm) error {
	if have < need {
		return fmt.Errorf("%w: this call needs a %s token (create one with `openledger auth create-token --perm %s`)", ErrPermission, need, need)
	}
	return nil
}

// allow checks a call of method against the permission table and returns
// the caller's level.
func (g guard) allow(ctx context.Context, method string) (Perm, error) {
	want, ok := methodPerms[method]
	if !ok {
		return 0, fmt.Errorf("%w: %s has no entry in the permission table", ErrPermission, method)
	}
	have := g(ctx)
	return have, needPerm(have, want)
}

// serve runs one call of an API method for the JSON-RPC server, the one
// place between the rpc package and the namespaces' code: the caller must
// hold the permission the table gives method, call runs with the caller's
// level in its context (callerPerm), and an error leaves with its stable
// code (apiError).
func serve[R any](ctx context.Context, g guard, method string, call func(ctx context.Context) (R, error)) (R, error) {
	have, err := g.allow(ctx, method)
	if err != nil {
		var zero R
		return zero, apiError(err)
	}
	r, err := call(withPerm(ctx, have))
	return r, apiError(err)
}

// serveErr is serve for a method without a result.
func serveErr(ctx context.Context, g guard, method string, call func(ctx context.Context) error) error {
	_, err := serve(ctx, g, method, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) })
	return err
}

// callerPerm is the permission level of the caller of the API method
// running with ctx: admin on the unix socket and in process, the token's
// level over HTTP.
func callerPerm(ctx context.Context) Perm { return permFrom(ctx) }
