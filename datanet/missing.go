package datanet

import (
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
)

// MissingError is the error of a check that needs objects this node does
// not hold: it wraps ErrMissingObject (or ErrUnknownDatanet for a Datanet),
// so it means "cannot judge yet" (CannotJudgeYet), and names the objects,
// so the network layer can fetch them before it checks again.
type MissingError struct {
	What string    // what they are to the object checked: "contribution", "previous snapshot", ...
	CIDs []cid.Cid // the objects not held
	// datanet marks a missing Datanet (ErrUnknownDatanet).
	datanet bool
}

// missingObject returns the error of an object that needs c, which is its
// what and is not held.
func missingObject(what string, c cid.Cid) error {
	return &MissingError{What: what, CIDs: []cid.Cid{c}}
}

func (e *MissingError) Error() string {
	sentinel := ErrMissingObject
	if e.datanet {
		sentinel = ErrUnknownDatanet
	}
	if len(e.CIDs) == 1 {
		return fmt.Sprintf("%v: %s %s", sentinel, e.What, e.CIDs[0])
	}
	return fmt.Sprintf("%v: %d %ss, the first %s", sentinel, len(e.CIDs), e.What, e.CIDs[0])
}

// Is makes errors.Is match ErrMissingObject, or ErrUnknownDatanet for a
// missing Datanet.
func (e *MissingError) Is(target error) bool {
	if e.datanet {
		return target == ErrUnknownDatanet
	}
	return target == ErrMissingObject
}

// Missing returns the CIDs of the objects not held: what a caller fetches
// before it checks again.
func (e *MissingError) Missing() []cid.Cid { return e.CIDs }

// MissingCIDs returns the objects err says are missing, nil if it names
// none.
func MissingCIDs(err error) []cid.Cid {
	if me, ok := errors.AsType[*MissingError](err); ok {
		return me.CIDs
	}
	return nil
}
