package datanet

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ipfs/go-cid"
)

// The JSON half of the codec (see codec.go): the view of an object for
// people and tools, with the keys of the json tags in declaration order.

// marshalJSON returns the JSON view of *p.
func marshalJSON(p any) ([]byte, error) {
	v, ct, err := valueOf(p)
	if err != nil {
		return nil, err
	}
	return appendJSON(nil, v, ct)
}

func appendJSON(b []byte, v reflect.Value, ct *codecType) ([]byte, error) {
	switch ct.kind {
	case kText:
		s, err := json.Marshal(v.String())
		return append(b, s...), err
	case kUint:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case kInt:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case kBytes:
		return strconv.AppendQuote(b, hexutil.Encode(v.Bytes())), nil
	case kArray:
		if ct.size == common.AddressLength {
			return strconv.AppendQuote(b, common.BytesToAddress(v.Bytes()).Hex()), nil
		}
		return strconv.AppendQuote(b, hexutil.Encode(v.Bytes())), nil
	case kLink:
		if c := *v.Addr().Interface().(*cid.Cid); c.Defined() {
			return strconv.AppendQuote(b, c.String()), nil
		}
		return append(b, `""`...), nil
	case kAmount:
		x := v.Interface().(*big.Int)
		if x == nil {
			return append(b, `"0"`...), nil
		}
		return append(x.Append(append(b, '"'), 10), '"'), nil
	case kVote:
		vote := v.Interface().(*Vote)
		if vote == nil {
			return append(b, "null"...), nil
		}
		return appendJSON(b, v.Elem(), ct.elem)
	case kList:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, v.Index(i), ct.elem); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case kMap:
		if v.Len() == 0 {
			return append(b, "{}"...), nil
		}
		m, err := json.Marshal(v.Interface())
		return append(b, m...), err
	case kStruct:
		b = append(b, '{')
		if ct.object {
			b = append(b, `"kind":`...)
			b = strconv.AppendQuote(b, v.Addr().Interface().(Object).Kind())
		}
		for i, f := range ct.fields {
			if i > 0 || ct.object {
				b = append(b, ',')
			}
			b = append(strconv.AppendQuote(b, f.jsonKey), ':')
			fv := v.Field(f.index)
			if f.nullable && !fv.Addr().Interface().(*cid.Cid).Defined() {
				b = append(b, "null"...)
				continue
			}
			if f.quoted {
				b = append(b, '"')
			}
			var err error
			if b, err = appendJSON(b, fv, f.t); err != nil {
				return nil, err
			}
			if f.quoted {
				b = append(b, '"')
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("datanet: codec: cannot write %s as JSON", ct.goType)
}

// unmarshalJSON reads the JSON view of a T into *p, which it changes only
// on success. Keys match as encoding/json matches a struct's; unknown keys
// are errors, and so is another "kind" than an Object's (ErrWrongKind).
// Null, or a missing key, reads as zero, but for byte strings (null is an
// error) and links (an error, unless nullable). Field rules are not
// checked.
func unmarshalJSON[T any](data []byte, p *T) error {
	var out T
	v, ct, err := valueOf(&out)
	if err != nil {
		return err
	}
	if err := readJSON(data, v, ct); err != nil {
		if errors.Is(err, ErrWrongKind) {
			return err
		}
		return fmt.Errorf("datanet: json: %s: %w", ct.goType.Name(), err)
	}
	*p = out
	return nil
}

func readJSON(data []byte, v reflect.Value, ct *codecType) error {
	null := string(data) == "null"
	switch ct.kind {
	case kBytes:
		return json.Unmarshal(data, (*hexutil.Bytes)(v.Addr().Interface().(*[]byte)))
	case kArray:
		s, err := jsonString(data, "0x-hex")
		if err != nil {
			return err
		}
		b, err := hexutil.Decode(s)
		if err != nil {
			return err
		}
		if len(b) != ct.size {
			return fmt.Errorf("%d bytes, want %d", len(b), ct.size)
		}
		reflect.Copy(v, reflect.ValueOf(b))
		return nil
	case kLink:
		s, err := jsonString(data, "a CID")
		if err != nil {
			return err
		}
		c, err := cid.Decode(s)
		if err != nil {
			return fmt.Errorf("cid %q: %w", s, err)
		}
		v.Set(reflect.ValueOf(c))
		return nil
	case kAmount:
		var s string
		if err := json.Unmarshal(data, &s); err != nil || null {
			return err
		}
		x, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return fmt.Errorf("integer %q is not a decimal number", s)
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case kVote:
		if null {
			return nil
		}
		vote := new(Vote)
		if err := vote.UnmarshalJSON(data); err != nil {
			return err
		}
		v.Set(reflect.ValueOf(vote))
		return nil
	case kList:
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		if len(items) == 0 {
			v.SetZero()
			return nil
		}
		v.Set(reflect.MakeSlice(ct.goType, len(items), len(items)))
		for i, item := range items {
			if err := readJSON(item, v.Index(i), ct.elem); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case kStruct:
		return readJSONFields(data, v, ct)
	}
	return json.Unmarshal(data, v.Addr().Interface())
}

// unquoteInteger returns the integer of a `json:",string"` field, given as
// a decimal string or, as older views and hand-written JSON have it, a
// number.
func unquoteInteger(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0] != '"' {
		return data, nil
	}
	s, err := jsonString(data, "a decimal integer")
	if err != nil {
		return nil, err
	}
	if s == "" || strings.TrimLeft(s, "-0123456789") != "" {
		return nil, fmt.Errorf("%q is not a decimal integer", s)
	}
	return []byte(s), nil
}

// jsonString reads a JSON string, not null, that should hold what.
func jsonString(data []byte, what string) (string, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil || string(data) == "null" {
		return "", fmt.Errorf("want %s", what)
	}
	return s, nil
}

// readJSONFields reads a JSON object into the struct v.
func readJSONFields(data []byte, v reflect.Value, ct *codecType) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var kind string
	var seen uint64
	for _, key := range slices.Sorted(maps.Keys(m)) { // sorted: the same error every time
		if ct.object && strings.EqualFold(key, "kind") {
			if err := json.Unmarshal(m[key], &kind); err != nil {
				return fmt.Errorf("kind: %w", err)
			}
			continue
		}
		i := slices.IndexFunc(ct.fields, func(f codecField) bool { return f.jsonKey == key })
		if i < 0 { // as encoding/json matches a struct's keys
			i = slices.IndexFunc(ct.fields, func(f codecField) bool { return strings.EqualFold(f.jsonKey, key) })
		}
		if i < 0 {
			return fmt.Errorf("unknown key %q", key)
		}
		seen |= 1 << i
		f := ct.fields[i]
		if f.nullable && string(m[key]) == "null" {
			v.Field(f.index).SetZero()
			continue
		}
		data := m[key]
		if f.quoted {
			var err error
			if data, err = unquoteInteger(data); err != nil {
				return fieldError(key, f, err)
			}
		}
		if err := readJSON(data, v.Field(f.index), f.t); err != nil {
			return fieldError(key, f, err)
		}
	}
	if ct.object {
		if want := v.Addr().Interface().(Object).Kind(); kind != want {
			return fmt.Errorf("%w: json kind %q, want %q", ErrWrongKind, kind, want)
		}
	}
	for i, f := range ct.fields {
		if seen&(1<<i) == 0 && f.t.kind == kLink && !f.nullable {
			return fmt.Errorf("missing key %q", f.jsonKey)
		}
	}
	return nil
}

// Integers of the inputs that may pass 2^53 (curator weights, quorums) are
// read from encoding/json as a decimal string or a number: JavaScript
// clients send them as strings, and the views give them as strings.

// UnmarshalJSON reads a curator with its weight as a string or a number.
func (c *Curator) UnmarshalJSON(data []byte) error {
	var v struct {
		Address common.Address `json:"address"`
		Weight  json.Number    `json:"weight"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	w, err := jsonUint(v.Weight, "weight")
	if err != nil {
		return err
	}
	*c = Curator{Address: v.Address, Weight: w}
	return nil
}

// UnmarshalJSON reads a spec with its quorum (and curator weights) as
// strings or numbers.
func (s *DatanetSpec) UnmarshalJSON(data []byte) error {
	type plain DatanetSpec
	v := struct {
		*plain
		Quorum json.Number `json:"quorum,omitempty"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	q, err := jsonUint(v.Quorum, "quorum")
	s.Quorum = q
	return err
}

// UnmarshalJSON reads an update with its quorum (and curator weights) as
// strings or numbers.
func (u *DatanetUpdate) UnmarshalJSON(data []byte) error {
	type plain DatanetUpdate
	v := struct {
		*plain
		Quorum *json.Number `json:"quorum,omitempty"`
	}{plain: (*plain)(u)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	u.Quorum = nil
	if v.Quorum != nil {
		q, err := jsonUint(*v.Quorum, "quorum")
		if err != nil {
			return err
		}
		u.Quorum = &q
	}
	return nil
}

// jsonUint parses an unsigned decimal integer read as a json.Number; ""
// (absent) is 0.
func jsonUint(n json.Number, name string) (uint64, error) {
	if n == "" {
		return 0, nil
	}
	x, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want an unsigned decimal integer", name, n)
	}
	return x, nil
}
