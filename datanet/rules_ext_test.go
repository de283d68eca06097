package datanet_test

import (
	"github.com/openledger/openledger/curation"
	"github.com/openledger/openledger/datanet"
)

// The package's own tests run with the real curation rules; see
// CurationRules.
func init() { datanet.CurationRules = curation.Rules{} }
