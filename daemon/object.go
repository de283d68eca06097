package daemon

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ipfs/go-cid"

	"github.com/openledger/openledger/datanet"
)

// objectAPI is the object_* namespace: the stored objects by CID, as they
// are (the bytes a CID names, whatever their kind).
type objectAPI struct {
	n *Node
}

// ObjectView is the answer of object_get.
type ObjectView struct {
	CID string `json:"cid"`
	// Kind is the object's kind (datanet, contribution, vote, ...), or
	// the "kind" of a block that is not a signed object (a snapshot's
	// chunk), or "".
	Kind string `json:"kind"`
	// Signer is the account whose signature the object carries.
	Signer string `json:"signer,omitempty"`
	// Object is the JSON view of every field of a signed object, the
	// signature, license, metadata and chunk size of a contribution
	// included.
	Object json.RawMessage `json:"object,omitempty"`
	// TypedData is a signed object's EIP-712 document and signature.
	TypedData *SignedTypedData `json:"typed_data,omitempty"`
	// Raw is the exact stored bytes (DAG-CBOR), which hash to CID.
	Raw hexutil.Bytes `json:"raw"`
}

// SignedTypedData is an object's EIP-712 document, exactly what its signer
// signed with eth_signTypedData_v4, with the signature and the signer:
// ethers' verifyTypedData(domain, types, message, signature) returns
// signer (after deleting types.EIP712Domain, which ethers derives itself),
// as go-ethereum's apitypes.TypedDataAndHash and crypto.SigToPub do.
type SignedTypedData struct {
	Types       json.RawMessage `json:"types"`
	PrimaryType string          `json:"primaryType"`
	Domain      json.RawMessage `json:"domain"`
	Message     json.RawMessage `json:"message"`
	Signature   hexutil.Bytes   `json:"signature"`
	Signer      string          `json:"signer"`
}

// Get returns an object with its exact bytes and, for a signed object,
// every field and its signed EIP-712 document; it is fetched from the
// network if not held (object_get).
func (a *objectAPI) Get(ctx context.Context, object string) (*ObjectView, error) {
	oc, err := parseCID(object)
	if err != nil {
		return nil, err
	}
	if codec := oc.Prefix().Codec; codec != cid.DagCBOR {
		return nil, fmt.Errorf("%w: %s is a %s block, not an object; its bytes are at %s%s?format=raw (or openledger cat)",
			errBadRequest, oc, codecName(codec), ContentPath, oc)
	}
	if err := a.n.ensureObject(ctx, oc); err != nil {
		return nil, err
	}
	data, err := a.n.registry.Get(ctx, oc)
	if err != nil {
		return nil, err
	}
	return objectView(oc, data)
}

// objectView describes the stored bytes of object c.
func objectView(c cid.Cid, data []byte) (*ObjectView, error) {
	v := &ObjectView{CID: c.String(), Raw: data}
	obj, err := datanet.Decode(data)
	if err != nil {
		// A block that is not a signed object: its bytes say the rest.
		v.Kind, _ = datanet.KindOf(data)
		return v, nil
	}
	v.Kind, v.Signer = obj.Kind(), obj.Signer().Hex()
	if v.Object, err = json.Marshal(obj); err != nil {
		return nil, fmt.Errorf("object %s: %w", c, err)
	}
	td, err := datanet.TypedDataJSON(obj)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", c, err)
	}
	var doc SignedTypedData
	var signed struct {
		Signature hexutil.Bytes `json:"signature"`
	}
	if err := json.Unmarshal(td, &doc); err != nil {
		return nil, fmt.Errorf("object %s: typed data: %w", c, err)
	}
	if err := json.Unmarshal(v.Object, &signed); err != nil {
		return nil, fmt.Errorf("object %s: signature: %w", c, err)
	}
	doc.Signature, doc.Signer = signed.Signature, v.Signer
	v.TypedData = &doc
	return v, nil
}
