package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/storage"
)

// fetchMissing fetches the objects a check of root named as missing
// (datanet.MissingError) from root's providers and connected peers, and
// stores each (a snapshot chunk as fetched content, the rest as from the
// network). The providers are resolved once.
func (n *Node) fetchMissing(ctx context.Context, root cid.Cid, missing []cid.Cid) error {
	if n.net == nil {
		return ErrOffline
	}
	if len(missing) == 0 {
		return errors.New("nothing named to fetch")
	}
	peers, _ := n.candidates(ctx, root)
	if len(peers) == 0 {
		return fmt.Errorf("%w: no peer provides %s", storage.ErrNotFound, root)
	}
	var want []cid.Cid
	for _, c := range missing {
		if has, err := n.registry.Has(ctx, c); err != nil {
			return err
		} else if !has && !slices.ContainsFunc(want, c.Equals) {
			want = append(want, c)
		}
	}
	_, err := n.net.p2p.FetchObjects(ctx, slices.Values(want), peers, func(c cid.Cid, data []byte) error {
		if _, err := n.registry.PutFetched(datanet.AcceptingStale(ctx), c, data); err != nil && !datanet.CannotJudgeYet(err) {
			return fmt.Errorf("store %s: %w", c, err)
		}
		return nil
	})
	return err
}

// Bounds of the background fetches of what received objects need.
const (
	depQueue   = 256 // objects waiting; more are dropped (sync brings them again)
	depWorkers = 2
)

// depJob is an object received from the network that needs others first.
type depJob struct {
	c    cid.Cid
	data []byte
	err  error
}

// needDependencies queues a received object that cannot be judged until the
// objects its check named are held: a worker fetches them and stores the
// object. Each object is queued once at a time; a full queue drops it.
func (n *Node) needDependencies(data []byte, err error) {
	c := storage.ObjectCID(cid.DagCBOR, data)
	n.depMu.Lock()
	defer n.depMu.Unlock()
	if n.depPending == nil {
		n.depPending = map[cid.Cid]bool{}
	}
	if n.depPending[c] {
		return
	}
	select {
	case n.depCh <- depJob{c: c, data: data, err: err}:
		n.depPending[c] = true
	default:
	}
}

// dependencyWorker fetches what queued objects need, then stores them.
func (n *Node) dependencyWorker() {
	for {
		select {
		case <-n.ctx.Done():
			return
		case job := <-n.depCh:
			err := job.err
			for round := 0; datanet.CannotJudgeYet(err) && round < maxFetchDepth && n.ctx.Err() == nil; round++ {
				ctx, cancel := context.WithTimeout(n.ctx, 2*time.Minute)
				ferr := n.fetchMissing(ctx, job.c, datanet.MissingCIDs(err))
				if ferr == nil {
					_, err = n.registry.Put(ctx, job.data)
				}
				cancel()
				if ferr != nil {
					err = ferr
				}
			}
			if err != nil && n.ctx.Err() == nil {
				n.log.Debug("object whose dependencies could not be fetched; sync brings it again", "cid", job.c.String(), "err", err)
			}
			n.depMu.Lock()
			delete(n.depPending, job.c)
			n.depMu.Unlock()
		}
	}
}
