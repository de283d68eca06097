package datanet

import "fmt"

// Status is the verdict of the tally on a contribution (package curation
// decides it; see its documentation): pending, accepted, rejected or
// expired.
type Status uint8

// The statuses of a contribution.
const (
	Pending Status = iota
	Accepted
	Rejected
	Expired
)

var statusNames = [...]string{"pending", "accepted", "rejected", "expired"}

// String returns "pending", "accepted", "rejected" or "expired".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// MarshalText returns the String form.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the String form.
func (s *Status) UnmarshalText(text []byte) error {
	for i, name := range statusNames {
		if string(text) == name {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("datanet: unknown status %q", text)
}
