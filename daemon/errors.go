package daemon

import (
	"errors"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
	"github.com/openledger/openledger/p2p"
	"github.com/openledger/openledger/p2p/exchange"
	"github.com/openledger/openledger/proofs"
	"github.com/openledger/openledger/storage"
)

// Stable JSON-RPC error codes of the API; clients branch on them (and on the
// name carried as the error's data), never on message text.
const (
	CodeInternal       = -32000
	CodeNotFound       = -32001
	CodePermission     = -32002
	CodeQuota          = -32003
	CodeBadRequest     = -32004
	CodePolicy         = -32005
	CodeUnknownDatanet = -32006
	CodeCorrupt        = -32007
	CodeBadSignature   = -32008
	CodeKey            = -32009
	CodeOffline        = -32010
)

// errorCodes maps sentinel errors to codes and names, first match wins.
var errorCodes = []struct {
	err  error
	code int
	name string
}{
	{ErrPermission, CodePermission, "permission_denied"},
	{ErrPathNotAllowed, CodePermission, "path_not_allowed"},
	{ErrNotIndexed, CodeNotFound, "not_indexed"},
	{ErrNothingToPay, CodePolicy, "nothing_to_pay"},
	{ErrNoEpoch, CodeNotFound, "no_epoch"},
	{ErrNoDistributor, CodeOffline, "no_chain"},
	{ErrRecordMismatch, CodeCorrupt, "record_mismatch"},
	{storage.ErrQuota, CodeQuota, "quota_exceeded"},
	{datanet.ErrUnknownDatanet, CodeUnknownDatanet, "unknown_datanet"},
	{datanet.ErrNotAdmitted, CodePolicy, "policy"},
	{datanet.ErrNotCurator, CodePolicy, "not_curator"},
	{datanet.ErrOutsideWindow, CodePolicy, "outside_window"},
	{datanet.ErrStaleVote, CodePolicy, "stale_vote"},
	{datanet.ErrFutureVote, CodePolicy, "future_vote"},
	{datanet.ErrBadUpdate, CodePolicy, "bad_update"},
	{datanet.ErrWrongSigner, CodePolicy, "wrong_signer"},
	{datanet.ErrEmptySnapshot, CodePolicy, "nothing_accepted"},
	{datanet.ErrBadSnapshotLink, CodePolicy, "bad_snapshot"},
	{curation.ErrBadSnapshot, CodePolicy, "bad_snapshot"},
	{datanet.ErrMissingObject, CodeNotFound, "missing_object"},
	{storage.ErrCorrupt, CodeCorrupt, "corrupt"},
	{datanet.ErrBadSignature, CodeBadSignature, "bad_signature"},
	{storage.ErrNotFound, CodeNotFound, "not_found"},
	{datanet.ErrNoSuchPath, CodeNotFound, "not_found"},
	{p2p.ErrNotFound, CodeNotFound, "not_found"},
	{exchange.ErrNotFound, CodeNotFound, "not_found"},
	{errBadRequest, CodeBadRequest, "bad_request"},
	{datanet.ErrBadPath, CodeBadRequest, "bad_request"},
	{datanet.ErrBadInput, CodeBadRequest, "bad_request"},
	{storage.ErrChunkSize, CodeBadRequest, "bad_request"},
	{ErrBadPassword, CodeKey, "bad_password"},
	{ErrOffline, CodeOffline, "offline"},
	{ErrNoChain, CodeOffline, "no_chain"},
	{proofs.ErrNotAnchored, CodeNotFound, "not_anchored"},
	{proofs.ErrUnknownItem, CodeNotFound, "not_anchored"},
	{proofs.ErrAnchorMismatch, CodeCorrupt, "anchor_mismatch"},
	{datanet.ErrWrongTopic, CodeBadRequest, "bad_request"},
	{datanet.ErrInvalid, CodeBadRequest, "invalid"},
	{datanet.ErrWrongKind, CodeBadRequest, "wrong_kind"},
}

// codedError is an API error with a stable code; go-ethereum's rpc package
// sends ErrorCode and ErrorData on the wire.
type codedError struct {
	code int
	name string
	err  error
}

func (e *codedError) Error() string          { return e.err.Error() }
func (e *codedError) Unwrap() error          { return e.err }
func (e *codedError) ErrorCode() int         { return e.code }
func (e *codedError) ErrorData() interface{} { return e.name }

// apiError gives err its stable code; nil stays nil. It is the one mapping
// of errors to codes: serve applies it to every method's error, eventErr
// to a subscription's final event, httpStatus to the content handler.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, rpc.ErrNotificationsUnsupported) {
		return err // the rpc package's own, with its code
	}
	return coded(err)
}

// coded is apiError for a non-nil error, as a *codedError.
func coded(err error) *codedError {
	if ce, ok := errors.AsType[*codedError](err); ok {
		return ce
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return &codedError{code: m.code, name: m.name, err: err}
		}
	}
	return &codedError{code: CodeInternal, name: "internal", err: err}
}

// httpStatus maps an error to an HTTP status for the content handler.
func httpStatus(err error) int {
	switch coded(err).code {
	case CodeNotFound, CodeUnknownDatanet:
		return 404
	case CodeBadRequest:
		return 400
	case CodePermission:
		return 403
	default:
		return 500
	}
}
