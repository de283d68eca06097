package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/storage"
)

// repairTimeout bounds the fetch of a good copy of one damaged shard.
const repairTimeout = time.Minute

// refetchShard is the store's Repairer: it fetches shard c, whose damaged
// copy the store just dropped, from the connected peers (a shard has no
// provider record of its own), verified, and stores it.
func (n *Node) refetchShard(ctx context.Context, c cid.Cid) error {
	if n.net == nil {
		return ErrOffline
	}
	peers := n.net.p2p.Host().Network().Peers()
	if len(peers) == 0 {
		return fmt.Errorf("%w: no peer connected to fetch shard %s from", storage.ErrNotFound, c)
	}
	ctx, cancel := context.WithTimeout(ctx, repairTimeout)
	defer cancel()
	return n.net.client.Fetch(ctx, []cid.Cid{c}, peers, nil,
		func(c cid.Cid, data []byte) error { return n.store.PutVerifiedShard(ctx, c, data) }, nil)
}

// What repo_verify with repair did about a damaged shard.
const (
	repairDropped  = "dropped"  // the damaged copy is gone; get or add the content again
	repairRepaired = "repaired" // a good copy was fetched from a peer
)

// repairShard drops the damaged copy of shard c and, when the node is
// online, fetches a good one. It says which it did, and why a good copy
// could not be had.
func (n *Node) repairShard(ctx context.Context, c cid.Cid) (string, error) {
	if _, err := n.store.DropDamagedShard(ctx, c); err != nil {
		return "", err
	}
	if err := n.refetchShard(ctx, c); err != nil {
		return repairDropped, err
	}
	return repairRepaired, nil
}

// VerifyResult is the answer of repo_verify.
type VerifyResult struct {
	Shards  int           `json:"shards"`
	Objects int           `json:"objects"`
	Bytes   int64         `json:"bytes"`
	Faults  []VerifyFault `json:"faults"`
}

// VerifyFault names one corrupt shard or object.
type VerifyFault struct {
	CID   string `json:"cid"`
	Kind  string `json:"kind"`
	Error string `json:"error"`
	// Repair is what repair did about a damaged shard: "dropped" (the
	// damaged copy is gone: get or add the content again) or "repaired" (a
	// good copy was fetched from a peer); RepairError says why a dropped
	// shard was not fetched. Both are empty without repair, and for
	// objects (add or fetch a damaged object again to repair it).
	Repair      string `json:"repair,omitempty"`
	RepairError string `json:"repair_error,omitempty"`
}

// VerifyArgs are the options of repo_verify.
type VerifyArgs struct {
	// Repair drops each damaged shard and, when the node is online, fetches
	// a good copy from the connected peers.
	Repair bool `json:"repair,omitempty"`
}

// Verify rehashes every shard and object and names each corrupt one; with
// repair, it drops each damaged shard and fetches it again from peers.
func (a *repoAPI) Verify(ctx context.Context, args *VerifyArgs) (*VerifyResult, error) {
	res, err := a.n.store.Verify(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := &VerifyResult{Shards: res.Shards, Objects: res.Objects, Bytes: res.Bytes, Faults: []VerifyFault{}}
	for _, f := range res.Faults {
		vf := VerifyFault{CID: f.CID.String(), Kind: f.Kind, Error: f.Err.Error()}
		if args != nil && args.Repair && f.Kind == storage.FaultShard {
			var err error
			if vf.Repair, err = a.n.repairShard(ctx, f.CID); vf.Repair == "" {
				return nil, err
			} else if err != nil {
				vf.RepairError = err.Error()
			}
			a.n.log.Warn("repo verify: damaged shard", "cid", vf.CID, "repair", vf.Repair, "err", vf.RepairError)
		}
		out.Faults = append(out.Faults, vf)
	}
	return out, nil
}
