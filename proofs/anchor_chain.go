package proofs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// run is the anchorer's loop: it finishes the batches a previous run left
// unanchored, then cuts and anchors batches one at a time until Close.
func (a *Anchorer) run() {
	ctx := a.ctx
	for {
		b, err := a.oldestPending()
		if err != nil {
			a.cfg.Logger.Error("read unanchored batches", slog.Any("err", err))
			a.setErr(err)
			if !a.sleep(a.cfg.MaxBackoff) {
				return
			}
			continue
		}
		if b == nil {
			break
		}
		if !a.anchor(ctx, b) {
			return
		}
	}
	timer := time.NewTimer(a.cfg.Interval)
	defer timer.Stop()
	due := false
	for {
		b, err := a.cut(due)
		if err != nil {
			a.cfg.Logger.Error("cut anchor batch", slog.Any("err", err))
			a.setErr(err)
			if !a.sleep(a.cfg.MaxBackoff) {
				return
			}
			continue
		}
		if b != nil {
			if !a.anchor(ctx, b) {
				return
			}
			due = false
			timer.Reset(a.cfg.Interval)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
		case <-timer.C:
			due = true
			timer.Reset(a.cfg.Interval)
		}
	}
}

// oldestPending returns the oldest batch not yet anchored, or nil.
func (a *Anchorer) oldestPending() (*anchorBatch, error) {
	a.mu.Lock()
	nums := make([]uint64, 0, len(a.pending))
	for n := range a.pending {
		nums = append(nums, n)
	}
	a.mu.Unlock()
	if len(nums) == 0 {
		return nil, nil
	}
	n := slices.Min(nums)
	var b *anchorBatch
	err := a.db.View(func(txn *badger.Txn) error {
		var err error
		b, err = getBatch(txn, n)
		return err
	})
	return b, err
}

// anchor drives b until it is anchored and recorded, backing off after
// errors. It reports false when the anchorer closes first.
func (a *Anchorer) anchor(ctx context.Context, b *anchorBatch) bool {
	backoff := a.cfg.MinBackoff
	for {
		done, err := a.step(ctx, b)
		if ctx.Err() != nil {
			return false
		}
		if err != nil {
			a.cfg.Logger.Warn("anchor batch", slog.Uint64("batch", b.Number), slog.String("root", b.Root.String()),
				slog.Duration("retry_in", backoff), slog.Any("err", err))
			a.setErr(err)
			if !a.sleep(backoff) {
				return false
			}
			backoff = a.nextBackoff(backoff)
			continue
		}
		if done {
			return true
		}
		backoff = a.cfg.MinBackoff
		if !a.sleep(a.cfg.PollInterval) {
			return false
		}
	}
}

// step advances b by one state. It returns done once b is recorded, and
// (false, nil) when it has to wait for the chain.
func (a *Anchorer) step(ctx context.Context, b *anchorBatch) (done bool, err error) {
	// Whatever state b is in, a root already anchored is recorded, never
	// sent again: this covers a crash between send and record, and a
	// transaction that reported an error but went through.
	info, err := a.registry.AnchorOf(&bind.CallOpts{Context: ctx}, b.Root)
	if err != nil {
		return false, fmt.Errorf("read anchor of %s: %w", b.Root, err)
	}
	if info.Submitter != (common.Address{}) {
		return a.recordAnchored(ctx, b, info.BlockNumber, info.ItemCount)
	}
	if b.State == batchSent {
		r, err := a.cfg.Backend.TransactionReceipt(ctx, b.TxHash)
		switch {
		case err == nil && r.Status == types.ReceiptStatusSuccessful:
			// Mined, but the registry read above came from an older state.
			return false, nil
		case err == nil:
			a.cfg.Logger.Warn("anchor transaction reverted", slog.String("tx", b.TxHash.Hex()), slog.Uint64("batch", b.Number))
			b.State, b.broadcast = batchCut, false
			if err := a.saveBatch(b); err != nil {
				return false, err
			}
			return false, fmt.Errorf("anchor tx %s reverted in block %d", b.TxHash.Hex(), r.BlockNumber)
		case !errors.Is(err, ethereum.NotFound):
			return false, fmt.Errorf("receipt of %s: %w", b.TxHash.Hex(), err)
		case time.Since(b.SentAt) < a.cfg.ReceiptTimeout:
			if !b.broadcast {
				tx := new(types.Transaction)
				if err := tx.UnmarshalBinary(b.RawTx); err != nil {
					return false, fmt.Errorf("decode stored anchor tx %s: %w", b.TxHash.Hex(), err)
				}
				// The node may know it already; the receipt tells.
				if err := a.cfg.Backend.SendTransaction(ctx, tx); err != nil {
					a.cfg.Logger.Debug("rebroadcast anchor tx", slog.String("tx", b.TxHash.Hex()), slog.Any("err", err))
				}
				b.broadcast = true
			}
			return false, nil
		default:
			a.cfg.Logger.Warn("anchor transaction not mined, signing a new one",
				slog.String("tx", b.TxHash.Hex()), slog.Uint64("batch", b.Number), slog.Duration("after", a.cfg.ReceiptTimeout))
			b.State = batchCut
		}
	}
	return false, a.send(ctx, b)
}

// send signs an anchor transaction for b, stores it and broadcasts it.
func (a *Anchorer) send(ctx context.Context, b *anchorBatch) error {
	opts := *a.cfg.Signer
	opts.Context = ctx
	opts.NoSend = true
	opts.Nonce = nil
	uri := ""
	if a.cfg.URI != nil {
		uri = a.cfg.URI(b.Root)
	}
	tx, err := a.registry.Anchor(&opts, b.Root, b.ItemCount, uri)
	if err != nil {
		return fmt.Errorf("sign anchor tx: %w", err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return fmt.Errorf("encode anchor tx: %w", err)
	}
	// Stored before it is sent, so that after a crash the same transaction
	// (same nonce) is broadcast again rather than a second one.
	b.State, b.TxHash, b.RawTx, b.SentAt = batchSent, tx.Hash(), raw, time.Now()
	if err := a.saveBatch(b); err != nil {
		return err
	}
	b.broadcast = true
	if err := a.cfg.Backend.SendTransaction(ctx, tx); err != nil {
		b.broadcast = false
		return fmt.Errorf("send anchor tx %s: %w", tx.Hash().Hex(), err)
	}
	a.cfg.Logger.Debug("sent anchor tx", slog.Uint64("batch", b.Number), slog.String("tx", tx.Hash().Hex()))
	return nil
}

// recordAnchored records b, whose root the registry holds as anchored in
// block, once the block has enough confirmations.
func (a *Anchorer) recordAnchored(ctx context.Context, b *anchorBatch, block, onChainCount uint64) (bool, error) {
	if a.cfg.Confirmations > 0 {
		head, err := a.cfg.Backend.BlockNumber(ctx)
		if err != nil {
			return false, fmt.Errorf("read head block: %w", err)
		}
		if head < block+a.cfg.Confirmations {
			return false, nil
		}
	}
	if a.chainID == 0 {
		id, err := a.cfg.Backend.ChainID(ctx)
		if err != nil {
			return false, fmt.Errorf("read chain id: %w", err)
		}
		if !id.IsUint64() {
			return false, fmt.Errorf("chain id %v out of range", id)
		}
		a.chainID = id.Uint64()
	}
	txHash, err := a.anchorTx(ctx, b.Root, block)
	if err != nil {
		return false, err
	}
	if onChainCount != b.ItemCount {
		a.cfg.Logger.Warn("root anchored with another item count", slog.String("root", b.Root.String()),
			slog.Uint64("items", b.ItemCount), slog.Uint64("on_chain", onChainCount))
	}
	if err := a.record(b, txHash, block, onChainCount); err != nil {
		return false, err
	}
	a.cfg.Logger.Info("anchored batch", slog.Uint64("batch", b.Number), slog.Uint64("items", b.ItemCount),
		slog.String("root", b.Root.String()), slog.String("tx", txHash.Hex()), slog.Uint64("block", block))
	return true, nil
}

// anchorTx finds the transaction that anchored root in block from the
// registry's Anchored event.
func (a *Anchorer) anchorTx(ctx context.Context, root Hash, block uint64) (common.Hash, error) {
	it, err := a.registry.FilterAnchored(&bind.FilterOpts{Start: block, End: &block, Context: ctx}, [][32]byte{root}, nil)
	if err != nil {
		return common.Hash{}, fmt.Errorf("find Anchored event of %s in block %d: %w", root, block, err)
	}
	defer it.Close()
	if it.Next() {
		return it.Event.Raw.TxHash, nil
	}
	if err := it.Error(); err != nil {
		return common.Hash{}, fmt.Errorf("find Anchored event of %s in block %d: %w", root, block, err)
	}
	return common.Hash{}, fmt.Errorf("no Anchored event of %s in block %d", root, block)
}
