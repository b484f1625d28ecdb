package mem_test

import (
	"testing"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/store/storetest"
)

// Ensure the in-memory store passes the store conformance suite.
func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) imds.Store { return mem.New() })
}
